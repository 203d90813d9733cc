import pytest

from pipelines.cluster.config import RayRunConfig
from pipelines.cluster.connect import ClusterUnreachable, connected, host_port
from pipelines.config import check_config, load_config


def test_run_section_takes_the_executor_and_resources_per_model(write_lines):
    path = write_lines("pipeline.yaml", """\
run:
  executor: ray
  ray:
    address: "127.0.0.1:6379"
    model: {num_cpus: 2, batch_size: 8}
    models:
      embedded: {replicas: 3}
      meta-llama/Llama-3.1-8B-Instruct: {num_gpus: 1, replicas: 8, batch_size: 256}
""")
    run = load_config(path).run
    assert run.executor == "ray" and run.ray.address == "127.0.0.1:6379"
    embedded = run.ray.resources_for(None)
    assert (embedded.num_cpus, embedded.replicas, embedded.batch_size) == (2, 3, 8)
    llama = run.ray.resources_for("meta-llama/Llama-3.1-8B-Instruct")
    assert (llama.num_gpus, llama.replicas, llama.batch_size, llama.num_cpus) == (1, 8, 256, 2)


def test_local_is_the_default_executor(write_lines):
    assert load_config(write_lines("p.yaml", "run: {name: x}\n")).run.executor == "local"


def test_unknown_executor_and_bad_resources_are_named(write_lines):
    _, problems = check_config(write_lines("p.yaml", """\
run:
  executor: slurm
  ray: {model: {replicas: 0}}
"""))
    text = "\n".join(problems)
    assert "run.executor" in text and "slurm" in text
    assert "run.ray.model.replicas" in text


def test_address_forms():
    assert host_port("head:6380") == ("head", 6380)
    assert host_port("ray://10.1.2.3") == ("10.1.2.3", 10001)
    with pytest.raises(ClusterUnreachable, match="port 'x'"):
        host_port("head:x")


def test_unreachable_cluster_is_one_error_naming_the_address():
    pytest.importorskip("ray", reason="connecting needs the `ray` extra")
    with pytest.raises(ClusterUnreachable) as caught:
        with connected(RayRunConfig(address="127.0.0.1:9", connect_timeout=2)):
            pass
    message = str(caught.value)
    assert message.startswith("cannot reach the Ray cluster at 127.0.0.1:9 (")
    assert "ray start --head" in message
