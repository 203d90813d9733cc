"""The distributed path: signatures per shard as Ray tasks, buckets grouped with Ray Data.

    texts --split into shards--> [Ray task: signatures + band keys] x shards
          --rows (band, key, doc)--> ray.data groupby(band, key) --map_groups--> buckets

Each task runs the same compiled kernels as the local path on its contiguous slice of the
packed texts; the grouped buckets of 2 or more texts come back to the driver and are put in
the local order (`lsh.band_buckets`), so the buckets, and therefore the accepted pairs and
clusters, are exactly the local ones. Verification and connected components run on the driver
(`near.verify_candidates`, `clusters.components`): their input, the candidates, is small.

    signatures, buckets = ray_candidates(packed, params, RayConfig(shards=2))

`ray` is imported inside the functions; without it a MissingExtraError names the extra to
install. A local Ray instance is started when none is running and `address` is not set, and is
shut down again afterwards.

Not here: shuffling the verification itself across the cluster.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.dedup.config import RayConfig
from pipelines.dedup.lsh import Buckets, band_buckets, band_keys
from pipelines.dedup.minhash import minhash_signatures
from pipelines.dedup.normalize import Packed
from pipelines.errors import MissingExtraError


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library comes with the `ray[data]` extra
    except ImportError as exc:
        raise MissingExtraError("ray", "ray", "distributed dedup") from exc
    return ray


def _shard_work(data: np.ndarray, offsets: np.ndarray, first: int, params) -> tuple[int, np.ndarray, pa.Table]:
    """One shard: signatures and (band, key, doc) rows for texts first .. first + len - 1."""
    sig = minhash_signatures(Packed(data, offsets), ngram=params.ngram, num_perm=params.num_perm,
                             seed=params.seed, scheme=params.scheme)
    keys = band_keys(sig, params.bands, params.rows)
    n = keys.shape[0]
    rows = pa.table({
        "band": np.repeat(np.arange(params.bands, dtype=np.int32)[None, :], n, axis=0).ravel(),
        "key": keys.view(np.int64).ravel(),
        "doc": np.repeat(np.arange(first, first + n, dtype=np.int64), params.bands),
    })
    return first, sig, rows


def _bucket_rows(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One bucket's (band, key, doc) rows, kept only when it has 2 or more texts."""
    keep = len(batch["doc"]) > 1
    return {name: batch[name] if keep else batch[name][:0] for name in ("band", "key", "doc")}


def _buckets(batches: list[dict[str, np.ndarray]], bands: int) -> Buckets:
    """The grouped rows as `lsh.Buckets`, in the local order (band, then key, then text)."""
    rows = {name: np.concatenate([b[name] for b in batches]) if batches else np.zeros(0, np.int64)
            for name in ("band", "key", "doc")}
    band, key, doc = rows["band"], rows["key"].view(np.uint64), rows["doc"].astype(np.int64)
    members, offsets = [], []
    for j in range(bands):
        mine = band == j
        found = band_buckets(key[mine], doc[mine])
        members.append(found[0])
        offsets.append(found[1])
    return Buckets(members, offsets)


def ray_candidates(packed: Packed, params, config: RayConfig | None = None
                   ) -> tuple[np.ndarray, Buckets]:
    """(signatures, buckets) like `near.local_candidates`, computed on Ray."""
    ray = _ray()
    config = config or RayConfig()
    started = not ray.is_initialized()
    if started:
        ray.init(address=config.address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        n = len(packed)
        bounds = np.linspace(0, n, min(config.shards, max(n, 1)) + 1).astype(np.int64)
        task = ray.remote(_shard_work)
        futures = []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            offsets = packed.offsets[lo: hi + 1]
            futures.append(task.remote(packed.data[offsets[0]: offsets[-1]], offsets - offsets[0],
                                       int(lo), params))
        shards = sorted(ray.get(futures), key=lambda shard: shard[0])
        signatures = np.concatenate([s[1] for s in shards]) if shards else \
            minhash_signatures(packed, num_perm=params.num_perm, scheme=params.scheme)
        rows = ray.data.from_arrow([s[2] for s in shards]) if shards else None
        if rows is None or n < 2:
            return signatures, _buckets([], params.bands)
        grouped = rows.groupby(["band", "key"], num_partitions=config.shards).map_groups(
            _bucket_rows, batch_format="numpy")
        return signatures, _buckets(list(grouped.iter_batches(batch_format="numpy")), params.bands)
    finally:
        if started:
            ray.shutdown()
