"""The demo pipeline with scripted models (the real ones run in `make demo` and the slow tests)."""

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app

REPO = Path(__file__).resolve().parents[2]


def run_demo(out: Path, monkeypatch):
    """`tuneset run configs/demo.yaml --out OUT` with every model scripted; the CliRunner result."""
    import flows.judge
    import flows.preferences
    import flows.self_instruct
    from pipelines.preferences.scorers import RatingScorer
    from tests.fakes import ScriptedGenerator
    from tests.pipelines.self_instruct.helpers import SelfInstructFake

    fake = ScriptedGenerator([], scores=lambda conv, prefix, cands: {c: -1.0 for c in cands})
    answers = ScriptedGenerator(lambda conv, params, k: f"answer {k} " + "word " * k,
                                name="fake:sampler")
    rater = ScriptedGenerator([], name="fake:rater", scores=lambda conv, prefix, cands: {
        c: -float(c) if "word word" in conv[-1]["content"] else -5.0 * float(c) for c in cands})
    monkeypatch.setattr(flows.judge, "load_generator", lambda config: fake)
    monkeypatch.setattr(flows.self_instruct, "load_generator", lambda config: SelfInstructFake())
    monkeypatch.setattr(flows.preferences, "load_generator", lambda config: answers)
    monkeypatch.setattr(flows.preferences, "scorer_model",
                        lambda config, loader: RatingScorer(rater, config.judge))
    return CliRunner().invoke(app, ["run", str(REPO / "configs/demo.yaml"), "--out", str(out)])
