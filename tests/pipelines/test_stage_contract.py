"""The stage contract, checked on every record stage with scripted models.

Every stage is `verb(records, config, *, model=None, progress=None, ...) -> StageResult`:
filters conserve records (kept + rejected == input), generators account for every candidate in
their stats, every reason is prefixed by its stage, rejected rows carry their columns plus
`stage` / `reason` / `detail`, the same seed gives the same output, and nothing under
`pipelines/` imports Prefect.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass

import datasets
import pyarrow as pa
import pytest

from pipelines.dedup import DedupConfig, dedup_records
from pipelines.generate import GenerateConfig, generate_records
from pipelines.judge import JudgeConfig, judge_filter
from pipelines.preferences import PreferenceConfig, pair_responses, sample_responses
from pipelines.records import content_id
from pipelines.self_instruct import SelfInstructConfig, bootstrap_instructions
from pipelines.self_instruct.rounds import CANDIDATE_FEATURES
from pipelines.stage import REJECT_COLUMNS, Rejections, StageResult
from pipelines.templating import (
    TemplatingConfig,
    read_task_rows,
    read_task_templates,
    render_templates,
)
from tests.conftest import REPO
from tests.fakes import ScriptedGenerator

from .preferences.helpers import TableScorer, sampler
from .self_instruct.helpers import SEEDS, SelfInstructFake, write_seeds
from .templating.helpers import NLI_ROWS, nli_spec, write_jsonl

TAIL = list(REJECT_COLUMNS)


@dataclass(frozen=True)
class Case:
    """One stage: how to run it on tiny literal data, and what its rejected rows carry."""

    stage: str                                             # the `stage` column / reason prefix
    entry: Callable
    run: Callable[[object], tuple[datasets.Dataset, StageResult]]   # tmp_path -> (input, result)
    generator: Callable[[datasets.Dataset, StageResult], bool] | None = None  # accounts for all
    carried: Callable[[datasets.Dataset], datasets.Features] = lambda records: records.features


def _templating(tmp_path):
    rows = NLI_ROWS + [{"p": "A.", "h": "B.", "y": "-1"}]
    config = TemplatingConfig(tasks=[nli_spec(write_jsonl(tmp_path / "nli.jsonl", rows), cap=5)],
                              seed=3)
    records = read_task_rows(config)
    return records, render_templates(records, config, templates=read_task_templates(config))


def _self_instruct(tmp_path):
    config = SelfInstructConfig(seeds=write_seeds(tmp_path / "seeds.jsonl"), requests_per_round=2,
                                target=4, max_rounds=2)
    records = datasets.Dataset.from_list(SEEDS)
    reply = "9. Name three birds.\n10. Give the opposite of the given word please.\n" \
            "11. Plan a weekend trip to the mountains with friends."
    fake = SelfInstructFake(batches=[(reply, "stop")])
    return records, bootstrap_instructions(records, config, model=fake)


def _dedup(tmp_path):
    records = datasets.Dataset.from_list([
        {"id": "a", "instruction": "Name a colour.", "input": ""},
        {"id": "b", "instruction": "name a COLOUR", "input": ""},
        {"id": "c", "instruction": "Name a planet in the solar system.", "input": ""}])
    return records, dedup_records(records, DedupConfig(), progress=None)


def _judge(tmp_path):
    records = datasets.Dataset.from_list([
        {"id": str(i), "instruction": f"Question {i}: name a colour.", "input": "", "output": out}
        for i, out in enumerate(["Blue.", "A banana.", "Red."])])
    judge = ScriptedGenerator(lambda conv, params, k:
                              "no idea" if "banana" in conv[-1]["content"] else "Score: 5")
    return records, judge_filter(records, JudgeConfig(mode="parse"), model=judge)


def _sampling(tmp_path):
    records = datasets.Dataset.from_list([{"id": "p1", "prompt": "q1"}, {"id": "p2", "prompt": "q2"}])
    config = PreferenceConfig(samplers=[{"params": {"temperature": 1.0, "seed": 0}, "n": 3}])
    answers = {"q1": ["a", "b", "a"], "q2": ["c", "", "d"]}
    return records, sample_responses(records, config, model=sampler(answers))


def _pairing(tmp_path):
    prompts, sampled = _sampling(tmp_path)
    scores = {"a": 4.0, "b": 1.0, "c": 2.0, "d": 2.0}
    return sampled.kept, pair_responses(sampled.kept, PreferenceConfig(), model=TableScorer(scores))


def _generate(tmp_path):
    records = datasets.Dataset.from_list([{"prompt": "one"}, {"prompt": "two"}])
    echo = ScriptedGenerator(lambda conv, params, k: f"{conv[-1]['content']} #{k}")
    config = GenerateConfig(params={"temperature": 1.0, "n": 2, "seed": 0})
    return records, generate_records(records, config, model=echo)


def _rendered_every_row(records, result):
    train = sum(split == "train" for split in records["split"])
    return result.stats["rows_in"] == train == result.stats["rows_rendered"] + len(result.rejected)


def _every_candidate(records, result):
    instruction_rejects = sum(r["kind"] == "instruction" and r["reason"] != "self_instruct_no_instances"
                              for r in result.rejected)
    return result.stats["candidates"] == result.stats["accepted"] + instruction_rejects > 0


def _every_sample(records, result):
    return result.stats["candidates"] == result.stats["unique"] + len(result.rejected) == \
        sum(len(c) for c in result.kept["candidates"]) + len(result.rejected)


def _every_prompt(records, result):
    paired = {content_id(pair["prompt"]) for pair in result.kept}
    return set(records["prompt_id"]) == paired | set(result.rejected["prompt_id"]) and \
        result.stats["candidates"] == sum(len(c) for c in records["candidates"])


def _every_completion(records, result):
    return result.stats["completions"] == 2 * len(records) == \
        sum(len(r["completions"]) for r in result.kept)


CASES = {
    "templating": Case("template", render_templates, _templating, generator=_rendered_every_row),
    "self_instruct": Case("self_instruct", bootstrap_instructions, _self_instruct,
                          generator=_every_candidate, carried=lambda records: CANDIDATE_FEATURES),
    "dedup": Case("dedup", dedup_records, _dedup),
    "judge": Case("judge", judge_filter, _judge),
    "preferences_sampling": Case("preferences", sample_responses, _sampling,
                                 generator=_every_sample),
    "preferences_pairing": Case("preferences", pair_responses, _pairing, generator=_every_prompt),
    "generate": Case("generate", generate_records, _generate),
}
stages = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


@stages
def test_entry_point_has_the_contract_signature(case):
    params = list(inspect.signature(case.entry).parameters.values())
    assert [p.name for p in params[:2]] == ["records", "config"]
    assert all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params[:2])
    rest = {p.name: p for p in params[2:]}
    assert all(p.kind == p.KEYWORD_ONLY and p.default is not p.empty for p in rest.values())
    assert rest["progress"].default is None
    assert rest["model"].default is None


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each case's (input, result), run once for the checks that only read them."""
    found = {}

    def output(case):
        if case.entry not in found:
            found[case.entry] = case.run(tmp_path_factory.mktemp(case.entry.__name__))
        return found[case.entry]
    return output


@stages
def test_records_are_conserved_or_accounted_for(case, outputs):
    records, result = outputs(case)
    if case.generator is None:
        assert len(result.kept) + len(result.rejected) == len(records)
    else:
        assert case.generator(records, result)


@stages
def test_every_reason_is_prefixed_by_its_stage_and_counted(case, outputs):
    records, result = outputs(case)
    assert case.stage == "generate" or len(result.rejected) > 0  # generate drops nothing
    assert set(result.rejected["stage"]) <= {case.stage}
    assert all(reason.startswith(f"{case.stage}_") for reason in result.rejected["reason"])
    assert result.stats["stage"] == case.stage
    assert result.stats["rejected"] == dict(sorted(Counter(result.rejected["reason"]).items()))


@stages
def test_rejected_rows_carry_their_columns_then_stage_reason_detail(case, outputs):
    records, result = outputs(case)
    features = result.rejected.features
    assert list(features)[-3:] == TAIL
    for name, feature in case.carried(records).items():
        assert features[name] == feature, name
    assert all(isinstance(d, str) for d in result.rejected["detail"])


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items()
                if k not in ("seconds", "tokens_per_second", "examples_per_second")}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@stages
def test_same_seed_same_output(case, tmp_path):
    _, first = case.run(tmp_path)
    _, second = case.run(tmp_path)
    assert first.kept.to_list() == second.kept.to_list()
    assert first.rejected.to_list() == second.rejected.to_list()
    assert {k: v.to_list() for k, v in first.extra.items()} == \
        {k: v.to_list() for k, v in second.extra.items()}
    assert _without_timings(first.stats) == _without_timings(second.stats)


def test_best_of_n_is_a_named_extra_dataset(tmp_path):
    _, result = _pairing(tmp_path)
    assert list(result.extra) == ["best_of_n"] and len(result.extra["best_of_n"]) == 2


def test_no_module_under_pipelines_imports_prefect():
    script = (
        "import importlib, pkgutil, sys\n"
        "import pipelines\n"
        "names = [m.name for m in pkgutil.walk_packages(pipelines.__path__, 'pipelines.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), 'prefect' in sys.modules, sorted(m for m in sys.modules if m.startswith('prefect'))[:3])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    count, imported, which = done.stdout.split(" ", 2)
    assert int(count) > 50 and imported == "False", which


# -- Rejections and StageResult -------------------------------------------------------------
FEATURES = datasets.Features({"id": datasets.Value("string"), "n": datasets.Value("int64")})


def test_rejections_keep_rows_in_the_order_added_with_their_columns():
    r = Rejections("demo", FEATURES, extra_columns={"why": datasets.Value("string")})
    r.add({"id": "a", "n": 1}, "demo_one", "first", why="x")
    r.add_table(pa.table({"id": ["b", "c"], "n": [2, 3]}), ["demo_two", "demo_one"], "bulk",
                why=["y", "z"])
    r.add({"id": "d", "n": 4}, "demo_two", why="w")
    data = r.dataset()
    assert list(data.features) == ["id", "n", "why", "stage", "reason", "detail"]
    assert data["id"] == ["a", "b", "c", "d"] and data["why"] == ["x", "y", "z", "w"]
    assert data["detail"] == ["first", "bulk", "bulk", ""] and set(data["stage"]) == {"demo"}
    assert len(r) == 4 and r.counts == Counter({"demo_one": 2, "demo_two": 2})


def test_rejections_refuse_unprefixed_reasons_and_unknown_columns():
    r = Rejections("demo", FEATURES)
    with pytest.raises(ValueError, match="must start with the stage name"):
        r.add({"id": "a", "n": 1}, "other_reason")
    with pytest.raises(ValueError, match="unknown extra rejection columns"):
        r.add({"id": "a", "n": 1}, "demo_x", why="no such column")
    with pytest.raises(ValueError, match="another length"):
        r.add_table(pa.table({"id": ["a"], "n": [1]}), ["demo_x", "demo_y"])
    with pytest.raises(ValueError, match="reserved rejection columns"):
        Rejections("demo", datasets.Features({"reason": datasets.Value("string")}))
    assert len(r) == 0


def test_empty_rejections_still_have_their_features():
    data = Rejections("demo", FEATURES).dataset()
    assert len(data) == 0 and list(data.features) == ["id", "n", *TAIL]


def test_rejections_extend_with_rows_dropped_elsewhere():
    shard = Rejections("demo", FEATURES)
    shard.add({"id": "a", "n": 1}, "demo_one")
    total = Rejections("demo", FEATURES)
    total.add({"id": "z", "n": 0}, "demo_two")
    total.extend(shard.dataset())
    assert total.dataset()["id"] == ["z", "a"] and total.counts == Counter(demo_one=1, demo_two=1)
    other = Rejections("demo", datasets.Features({"id": datasets.Value("string")}))
    with pytest.raises(ValueError, match="do not match"):
        total.extend(other.dataset())


def test_rejections_stats_skeleton_and_counts_by_column():
    r = Rejections("demo", FEATURES)
    for row, reason in (({"id": "a", "n": 1}, "demo_b"), ({"id": "a", "n": 2}, "demo_a"),
                        ({"id": "c", "n": 3}, "demo_b")):
        r.add(row, reason)
    stats = r.stats(kept=7, seconds=0.1)
    assert list(stats) == ["stage", "kept", "seconds", "rejected"]
    assert stats["rejected"] == {"demo_a": 1, "demo_b": 2} and list(stats["rejected"]) == ["demo_a", "demo_b"]
    assert r.counts_by("id") == {"a": {"demo_b": 1, "demo_a": 1}, "c": {"demo_b": 1}}
    assert json.loads(json.dumps(stats)) == stats


def test_stage_result_defaults_reserved_names_and_immutability():
    empty = datasets.Dataset.from_list([{"id": "a"}])
    result = StageResult(kept=empty, rejected=empty.select([]))
    assert result.stats == {} and result.extra == {}
    with pytest.raises(ValueError, match="reserved"):
        StageResult(kept=empty, rejected=empty, extra={"kept": empty})
    with pytest.raises(FrozenInstanceError):
        result.kept = empty
    extra = StageResult(kept=empty, rejected=empty, extra={"best_of_n": empty}).extra
    assert list(extra) == ["best_of_n"]
