import numpy as np
import pytest

from pipelines.dedup import DedupConfig, RayConfig, dedup_records
from pipelines.dedup.near import NearParams, find_near_pairs
from pipelines.dedup.normalize import normalize_packed, pack

ray = pytest.importorskip("ray", reason="the Ray backend needs the `ray` extra: pip install 'tuneset[ray]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def corpus(n=400, seed=0):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(500)]
    texts = [" ".join(rng.choice(vocab, rng.integers(10, 40))) for _ in range(n)]
    for i in range(0, n, 7):  # planted near-copies
        words = texts[i].split()
        words[rng.integers(0, len(words))] = "edited"
        texts.append(" ".join(words))
    return texts


def test_ray_and_local_give_the_same_clusters(local_ray):
    import datasets

    texts = corpus()
    ds = datasets.Dataset.from_dict({"id": [str(i) for i in range(len(texts))], "instruction": texts})
    config = DedupConfig(text="instruction", threshold=0.7)
    local = dedup_records(ds, config)
    distributed = dedup_records(ds, config.model_copy(update={"backend": "ray",
                                                              "ray": RayConfig(shards=3)}))
    assert local.stats["rejected"] and local.kept["id"] == distributed.kept["id"]
    assert local.rejected.to_list() == distributed.rejected.to_list()


def test_ray_candidates_equal_local_candidates(local_ray):
    packed = normalize_packed(pack(corpus(200, seed=1)))
    params = NearParams.from_config(DedupConfig(verify="none"))
    local = find_near_pairs(packed, params)
    distributed = find_near_pairs(packed, params, backend="ray", ray_config=RayConfig(shards=2))
    np.testing.assert_array_equal(local.left, distributed.left)
    np.testing.assert_array_equal(local.right, distributed.right)
