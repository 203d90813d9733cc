"""What `tuneset run` says before each stage."""

from flows.estimate import DEMO, stage_line, stage_units
from pipelines.config import load_config

from .demo_run import REPO


def test_units_come_from_the_config_and_the_stages_before():
    config = load_config(REPO / "configs/demo.yaml")
    upstream = [{"stage": "templating", "kept": 80}, {"stage": "self_instruct", "kept": 12}]
    assert stage_units("templating", config.templating, []) is None
    assert stage_units("self_instruct", config.self_instruct, upstream[:1]) == 2 * 4
    assert stage_units("dedup", config.dedup, upstream) == 92
    assert stage_units("judge", config.judge, [{"stage": "dedup", "kept": 90}]) == 90
    assert stage_units("preferences", config.preferences, [{"stage": "judge", "kept": 40}]) == 120
    assert stage_units("judge", config.judge, []) is None  # reads files named in its config


def test_the_estimate_is_units_times_the_demo_cost_per_unit():
    per = DEMO["judge"].per_unit
    line = stage_line(4, 6, "judge", 3 * DEMO["judge"].units)
    assert line.startswith(f"stage 4/6: judge, {3 * DEMO['judge'].units} records, about ")
    assert f"({per:.2g} s per record on the demo)" in line
    assert stage_line(6, 6, "publish", 1).startswith("stage 6/6: publish, 1 run, under 1 s ")
    assert stage_line(1, 1, "other", 5) == "stage 1/1: other"


def test_tuneset_run_logs_each_stage_as_it_starts(demo_checkout):
    lines = [m for m in demo_checkout.logs if m.startswith("stage ")]
    assert [line.split(":")[1].split(",")[0].split()[0] for line in lines] == [
        "templating", "self_instruct", "dedup", "judge", "preferences", "publish"]
    assert lines[0] == "stage 1/6: templating (the demo: 80 rows in under 1 s)"
    assert lines[1].startswith("stage 2/6: self_instruct, 8 bootstrap requests, about ")
    assert any(m.startswith("6 stages: templating, self_instruct") for m in demo_checkout.logs)
