"""Thread counts follow the CPUs the process may really use, or what the user says, and reach
torch and numba."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from pipelines import threads
from pipelines.config import RunConfig
from pipelines.errors import ConfigError
from pipelines.threads import available_cpus, cgroup_cpu_limit, configure_threads, resolve_threads

WRITTEN = ("TUNESET_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
           "NUMBA_NUM_THREADS")


@pytest.fixture
def clean(monkeypatch):
    """No thread settings in the environment; whatever a test changes is put back."""
    for name in WRITTEN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "_configured", None)
    monkeypatch.setattr(threads, "_user_omp", None)
    before = torch.get_num_threads(), numba.get_num_threads()
    yield monkeypatch
    torch.set_num_threads(before[0])
    numba.set_num_threads(before[1])


def fake_cgroup(tmp_path, lines: str, files: dict[str, str], unified: bool = False):
    """A cgroup tree under tmp_path/cgroup with `files` ({relative path: content}) and a
    /proc/self/cgroup stand-in holding `lines`."""
    root = tmp_path / "cgroup"
    root.mkdir()
    if unified:
        (root / "cgroup.controllers").write_text("cpu memory pids\n")
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content + "\n")
    self_cgroup = tmp_path / "self_cgroup"
    self_cgroup.write_text(lines)
    return root, self_cgroup


def test_cgroup_v2_quota_of_the_process_cgroup(tmp_path):
    root, me = fake_cgroup(tmp_path, "0::/user.slice/job\n",
                           {"cpu.max": "max 100000", "user.slice/job/cpu.max": "150000 100000"},
                           unified=True)
    assert cgroup_cpu_limit(root, me) == 1.5


def test_cgroup_v2_parent_quota_counts_when_tighter(tmp_path):
    root, me = fake_cgroup(tmp_path, "0::/a/b\n",
                           {"a/cpu.max": "100000 100000", "a/b/cpu.max": "400000 100000"}, unified=True)
    assert cgroup_cpu_limit(root, me) == 1.0


def test_cgroup_v2_without_a_quota(tmp_path):
    root, me = fake_cgroup(tmp_path, "0::/\n", {"cpu.max": "max 100000"}, unified=True)
    assert cgroup_cpu_limit(root, me) is None


def test_cgroup_v1_quota_also_when_the_path_is_from_the_host_namespace(tmp_path):
    # inside a container the cgroup path names the host's folder; the mount root holds the quota
    root, me = fake_cgroup(tmp_path, "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
                           {"cpu,cpuacct/cpu.cfs_quota_us": "200000",
                            "cpu,cpuacct/cpu.cfs_period_us": "100000"})
    assert cgroup_cpu_limit(root, me) == 2.0


def test_cgroup_v1_unlimited_on_a_hybrid_host(tmp_path):
    root, me = fake_cgroup(tmp_path, "1:cpu:/\n0::/\n",
                           {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000",
                            "unified/cgroup.controllers": ""})
    assert cgroup_cpu_limit(root, me) is None


def test_available_cpus_is_affinity_capped_by_the_quota_rounded_down(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    root, me = fake_cgroup(tmp_path, "0::/\n", {"cpu.max": "250000 100000"}, unified=True)
    assert available_cpus(root, me) == 2
    root.joinpath("cpu.max").write_text("50000 100000\n")
    assert available_cpus(root, me) == 1  # half a CPU still runs one thread
    assert available_cpus(tmp_path / "none", tmp_path / "missing") == 8


def test_resolution_order(clean, monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 6)
    assert resolve_threads() == 6 and resolve_threads("auto") == 6
    clean.setenv("OMP_NUM_THREADS", "3")
    assert resolve_threads() == 3
    assert resolve_threads(2) == 2  # run.threads beats OMP_NUM_THREADS
    clean.setenv("TUNESET_THREADS", "1")
    assert resolve_threads(2) == 1  # the environment beats the config
    clean.setenv("TUNESET_THREADS", "auto")
    assert resolve_threads(2) == 3


def test_a_bad_environment_value_is_a_config_error(clean):
    clean.setenv("TUNESET_THREADS", "0")
    with pytest.raises(ConfigError, match="TUNESET_THREADS: expected a whole number"):
        resolve_threads()


def test_run_threads_in_the_config():
    assert RunConfig().threads == "auto" and RunConfig(threads=2).threads == 2
    with pytest.raises(ValidationError):
        RunConfig(threads=0)


def test_configuring_sets_torch_and_numba_threads(clean):
    assert configure_threads(1) == 1
    assert torch.get_num_threads() == 1 and numba.get_num_threads() == 1
    assert os.environ["OMP_NUM_THREADS"] == "1"


def test_a_later_auto_ignores_the_value_tuneset_wrote(clean, monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    configure_threads(1)
    assert resolve_threads() == 2  # OMP_NUM_THREADS=1 is ours, not the user's


def test_the_cli_applies_tuneset_threads_before_the_command(clean, tmp_path):
    from flows.cli import app

    config = tmp_path / "c.yaml"
    config.write_text("run: {name: t}\n")
    clean.setenv("TUNESET_THREADS", "1")
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == 1
    clean.setenv("TUNESET_THREADS", "many")
    result = CliRunner().invoke(app, ["validate", str(config)])
    assert result.exit_code == 2 and "TUNESET_THREADS" in result.output


def test_at_process_start_every_pool_gets_the_count(tmp_path):
    script = textwrap.dedent("""
        import threading
        from pipelines.threads import apply_configured, configure_threads
        configure_threads()
        import numba, torch
        apply_configured()
        seen = {}
        worker = threading.Thread(target=lambda: seen.update(numba=numba.get_num_threads(),
                                                             torch=torch.get_num_threads()))
        worker.start(); worker.join()
        print(torch.get_num_threads(), torch.get_num_interop_threads(), seen["numba"], seen["torch"])
    """)
    env = {k: v for k, v in os.environ.items() if k not in WRITTEN} | {"TUNESET_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=300, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["1", "1", "1", "1"]
