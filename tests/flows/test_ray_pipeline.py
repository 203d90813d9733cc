"""The pipeline on a real two-node Ray cluster gives the local run's records, row for row."""

import re
import sys

import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs the `ray` extra: "
                                        "pip install 'tuneset[ray]' (make test-ray)")

from flows.pipeline import pipeline_flow  # noqa: E402
from pipelines.io import load_run  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.flows import ray_models  # noqa: E402
from tests.ray_cluster import local_cluster  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
STAGES = ["templating", "self_instruct", "dedup", "judge", "preferences"]
DATA = REPO / "configs" / "demo_data"

CONFIG = f"""\
run:
  name: ray-test
  threads: 1
  ray:                      # used with executor ray: one actor per node, templating there too
    model: {{replicas: 2, batch_size: 4}}
    templating_min_rows: 1
templating:
  seed: 0
  shots: [1]
  tasks:
    - {{name: nli, type: nli, source: {DATA}/nli.jsonl, label_field: label,
       labels: {{entailment: "yes", not_entailment: "no"}}, positive_label: entailment}}
    - {{name: trivia, type: closed_book_qa, source: {DATA}/trivia.jsonl,
       fields: {{question: q, answer: a}}}}
self_instruct:
  seeds: {DATA}/seed_tasks.jsonl
  target: 6
  max_rounds: 2
  requests_per_round: 3
  params: {{temperature: 0.7, top_p: 0.5, max_new_tokens: 64, seed: 0}}
  instances: {{max_instances: 2, params: {{max_new_tokens: 32}}}}
dedup: {{text: instruction_input, threshold: 0.8}}
judge: {{mode: logprob, aspect: accuracy, threshold: 2.5}}
preferences:
  samplers: [{{params: {{temperature: 0.9, max_new_tokens: 16, seed: 0}}, n: 3}}]
  scorer: {{kind: rating, judge: {{aspect: helpfulness, mode: logprob}}}}
  policy: best_vs_random
  shard_size: 8
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with local_cluster(tmp_path_factory.mktemp("ray-logs")) as address:
        yield address


@pytest.fixture
def scripted(monkeypatch):
    """Every model stage gets the scripted model (pickled by value to Ray workers); the judge's
    can be told to kill its worker once."""
    import flows.judge
    import flows.preferences
    import flows.self_instruct
    import tests.fakes

    for module in (ray_models, tests.fakes, sys.modules["tests.pipelines.self_instruct.helpers"]):
        ray.cloudpickle.register_pickle_by_value(module)

    def use(kill_marker=None):
        monkeypatch.setattr(flows.self_instruct, "load_generator", lambda c: ray_models.ScriptedModel())
        monkeypatch.setattr(flows.preferences, "load_generator", lambda c: ray_models.ScriptedModel())
        monkeypatch.setattr(flows.judge, "load_generator",
                            lambda c: ray_models.ScriptedModel(kill_marker))

    return use


def run(tmp_path, name, **overrides):
    config = tmp_path / "pipeline.yaml"
    config.write_text(CONFIG)
    out = tmp_path / name
    summary = pipeline_flow(str(config), str(out), **overrides)
    return out, summary


def assert_same_records(local, distributed):
    for stage in STAGES:
        for part in ("kept", "rejected"):
            mine, theirs = load_run(local / stage, part).to_list(), load_run(distributed / stage, part).to_list()
            assert mine == theirs, f"{stage}/{part} differs"
    assert len(load_run(local / "judge", "kept")) and len(load_run(local / "judge", "rejected"))
    assert len(load_run(local / "preferences", "kept"))


def test_ray_run_gives_the_local_records_row_for_row(tmp_path, cluster, scripted):
    scripted()
    local, _ = run(tmp_path, "local")
    distributed, summary = run(tmp_path, "ray", executor_name="ray", address=cluster)
    assert [s["stage"] for s in summary["stages"]] == STAGES
    assert not any(s["cached"] for s in summary["stages"])  # another folder: computed again
    assert_same_records(local, distributed)


def test_a_worker_killed_during_the_judge_loses_and_repeats_nothing(tmp_path, cluster, scripted):
    scripted()
    local, _ = run(tmp_path, "local")
    marker = tmp_path / "killed.pid"
    scripted(kill_marker=str(marker))
    distributed, _ = run(tmp_path, "ray", executor_name="ray", address=cluster)
    assert marker.exists()  # a judge worker did die mid-batch
    judged = [*load_run(distributed / "judge", "kept")["id"],
              *load_run(distributed / "judge", "rejected")["id"]]
    assert sorted(judged) == sorted(set(judged)) and len(judged) == len(load_run(local / "dedup", "kept"))
    assert_same_records(local, distributed)


def test_batch_size_and_replicas_do_not_change_a_model_call(cluster):
    """RayGenerator on its own: one replica with big batches, two with batches of one, and the
    local model give the same completions and scores."""
    from flows.executor import executor
    from pipelines.cluster import ModelResources
    from pipelines.cluster.generator import RayGenerator
    from pipelines.config import RunConfig
    from pipelines.models import GenerationParams, ModelConfig

    ray.cloudpickle.register_pickle_by_value(ray_models)
    local = ray_models.ScriptedModel()
    conversations = [[{"role": "user", "content": f"question {i}"}] for i in range(7)]
    params = GenerationParams(temperature=0.9, n=2, seed=3)
    expected = (local.generate(conversations, params), local.score_tokens(conversations, "S:", ["1", "2"]))
    with executor(RunConfig(executor="ray", ray={"address": cluster})):
        for resources in (ModelResources(batch_size=5), ModelResources(batch_size=1, replicas=2)):
            gen = RayGenerator(ModelConfig(), resources, load=lambda c: ray_models.ScriptedModel())
            assert gen.name == "fake:scripted"
            seen = []
            got = gen.generate(conversations, params, progress=lambda done, _, seen=seen: seen.append(done))
            assert (got, gen.score_tokens(conversations, "S:", ["1", "2"])) == expected
            assert seen[-1] == 7 and seen == sorted(seen)


EMBEDDED = f"""\
run:
  name: ray-embedded
  threads: 1
  ray: {{model: {{replicas: 2, batch_size: 4}}}}
templating:
  seed: 0
  shots: [1]
  tasks:
    - {{name: nli, type: nli, source: {DATA}/nli.jsonl, label_field: label,
       labels: {{entailment: "yes", not_entailment: "no"}}, positive_label: entailment}}
judge: {{mode: logprob, aspect: accuracy, threshold: 2.5}}
preferences:
  samplers: [{{params: {{temperature: 0.9, top_p: 0.95, max_new_tokens: 8, seed: 0}}, n: 2}}]
  scorer: {{kind: rating, judge: {{aspect: helpfulness, mode: logprob}}}}
  policy: best_vs_random
"""


NUMBER = re.compile(r"-?\d+\.\d+")


def differences(mine, theirs, path=""):
    """Where two records differ, floats compared to 1e-4 (log-probs from batches padded
    differently agree to about 1e-6), and numbers printed in text (the judge's `raw`, log-probs
    to 3 places) to one unit in the last place."""
    if isinstance(mine, float) and isinstance(theirs, float):
        return [] if abs(mine - theirs) <= 1e-4 else [f"{path}: {mine} != {theirs}"]
    if isinstance(mine, str) and isinstance(theirs, str) and mine != theirs:
        a, b = NUMBER.findall(mine), NUMBER.findall(theirs)
        same_text = NUMBER.sub("#", mine) == NUMBER.sub("#", theirs) and len(a) == len(b)
        if same_text and all(abs(float(x) - float(y)) <= 1.01 * 10 ** -len(x.split(".")[1])
                             for x, y in zip(a, b)):
            return []
    if isinstance(mine, dict) and isinstance(theirs, dict) and mine.keys() == theirs.keys():
        return [d for k in mine for d in differences(mine[k], theirs[k], f"{path}.{k}")]
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        return [d for i, (a, b) in enumerate(zip(mine, theirs))
                for d in differences(a, b, f"{path}[{i}]")]
    return [] if mine == theirs else [f"{path}: {mine!r} != {theirs!r}"]


@pytest.mark.usefixtures("embedded_generator")  # the embedded model's folder exists
def test_embedded_model_on_ray_gives_the_local_records(tmp_path, cluster):
    config = tmp_path / "pipeline.yaml"
    config.write_text(EMBEDDED)
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    pipeline_flow(str(config), str(local))
    pipeline_flow(str(config), str(ray_out), executor_name="ray", address=cluster)
    for stage in ("templating", "judge", "preferences"):
        for part in ("kept", "rejected"):
            mine, theirs = load_run(local / stage, part).to_list(), load_run(ray_out / stage, part).to_list()
            assert differences(mine, theirs, f"{stage}/{part}") == []
    assert len(load_run(local / "preferences", "kept"))
