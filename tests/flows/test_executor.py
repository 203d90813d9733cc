import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.executor import executor, on_executor, with_executor
from pipelines.config import PipelineConfig
from pipelines.errors import ConfigError
from pipelines.models import load_generator


def test_local_executor_hands_stages_the_loader_itself():
    with executor(PipelineConfig().run):
        assert on_executor(load_generator) is load_generator


def test_command_line_overrides_the_config():
    config = PipelineConfig()
    assert with_executor(config) is config
    on_cluster = with_executor(config, None, "10.0.0.5:6379")
    assert on_cluster.run.executor == "ray" and on_cluster.run.ray.address == "10.0.0.5:6379"
    assert with_executor(on_cluster, "local").run.executor == "local"
    with pytest.raises(ConfigError, match="--executor: expected 'local' or 'ray', got 'slurm'"):
        with_executor(config, "slurm")


@pytest.mark.usefixtures("prefect_harness")
def test_run_against_an_unreachable_cluster_is_one_clear_error(tmp_path):
    pytest.importorskip("ray", reason="the ray executor needs the `ray` extra")
    config = tmp_path / "p.yaml"
    config.write_text("run: {name: x}\n")
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(tmp_path / "out"),
                                      "--executor", "ray", "--address", "127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cannot reach the Ray cluster at 127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
