import pytest
from prefect.task_runners import ThreadPoolTaskRunner

import flows.self_instruct as si_flow
from pipelines.io import load_run, read_manifest, verify_run
from pipelines.self_instruct.config import SelfInstructConfig
from tests.fakes import Meeting
from tests.pipelines.self_instruct.helpers import SelfInstructFake, write_seeds

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def config(tmp_path):
    return SelfInstructConfig(seeds=write_seeds(tmp_path / "seeds.jsonl"), requests_per_round=2,
                              target=12, max_rounds=3)


def test_rounds_are_written_and_merged(tmp_path, config, monkeypatch):
    fake = SelfInstructFake()
    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: fake)
    out = tmp_path / "run"
    summary = si_flow.self_instruct_flow(config, str(out))
    assert summary["rounds"] >= 2 and summary["cached_rounds"] == 0
    assert verify_run(out) and all(verify_run(p) for p in (out / "rounds").iterdir())
    assert (out / "rouge_similarity.png").read_bytes()[:4] == b"\x89PNG"
    manifest = read_manifest(out)
    assert "rouge_similarity.png" in manifest["files"]
    merged = load_run(out)
    per_round = sum(len(load_run(p)) for p in (out / "rounds").iterdir())
    assert len(merged) == per_round > 0


def test_crash_between_rounds_resumes_from_the_last_finished_round(tmp_path, config, monkeypatch):
    out = tmp_path / "run"
    crashing = SelfInstructFake(fail_from_call=2)  # round 2's requests fail (and their retry)
    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        si_flow.self_instruct_flow(config, str(out))
    assert verify_run(out / "rounds/round-000") and not (out / "manifest.json").exists()

    healthy = SelfInstructFake()
    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: healthy)
    summary = si_flow.self_instruct_flow(config, str(out))
    assert summary["cached_rounds"] == 1
    first_prompts = [c for c in healthy.calls if c["conversations"][0][-1]["content"].startswith("Below")]
    assert healthy.bootstrap_calls == summary["rounds"] - 1 == len(first_prompts)
    assert verify_run(out)


def test_cli_runs_self_instruct(tmp_path, config, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: SelfInstructFake())
    spec = tmp_path / "si.yaml"
    spec.write_text(f"self_instruct:\n  seeds: {config.seeds}\n  target: 3\n  requests_per_round: 1\n")
    result = CliRunner().invoke(app, ["self-instruct", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert verify_run(tmp_path / "o")


def test_instance_shards_run_side_by_side_with_the_serial_output(tmp_path, config, monkeypatch):
    sharded = config.model_copy(update={"instances": config.instances.model_copy(
        update={"shard_size": 1})})
    serial = SelfInstructFake()  # one model for the whole run, as load_generator gives
    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: serial)
    si_flow.self_instruct_flow(sharded, str(tmp_path / "serial"))
    fake, meeting = SelfInstructFake(), Meeting()
    inner = fake.generate

    def generate(conversations, params, n=None, *, progress=None):
        if conversations and conversations[0][0]["content"].startswith("For each"):
            meeting()  # instance generation: the first two shards must overlap
        return inner(conversations, params, n, progress=progress)

    fake.generate = generate
    monkeypatch.setattr(si_flow, "load_generator", lambda cfg: fake)
    si_flow.self_instruct_flow.with_options(task_runner=ThreadPoolTaskRunner(max_workers=4))(
        sharded, str(tmp_path / "parallel"))
    assert meeting.calls > 2
    for part in ("kept", "rejected"):
        assert load_run(tmp_path / "serial", part).to_list() == \
            load_run(tmp_path / "parallel", part).to_list()
