"""The distributed path: signatures per shard as Ray tasks, buckets grouped with Ray Data.

    texts --split into shards--> [Ray task: signatures + band keys] x shards
          --rows (band, key, doc)--> ray.data groupby(band, key) --map_groups--> pair codes

Each task runs the same compiled kernels as the local path on its contiguous slice of the
packed texts; each bucket is turned into pairs by the same rule (`lsh.bucket_pair_codes`,
members in text order), so the candidate pairs, and therefore the verified pairs and clusters,
are exactly the local ones. Verification and connected components run on the driver
(`near.verify_candidates`, `clusters.components`): their input, the pair list, is small.

    signatures, left, right = ray_candidates(packed, params, RayConfig(shards=2))

`ray` is imported inside the functions; without it a MissingExtraError names the extra to
install. A local Ray instance is started when none is running and `address` is not set, and is
shut down again afterwards.

Not here: shuffling the verification itself across the cluster.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.dedup.config import RayConfig
from pipelines.dedup.lsh import band_keys, bucket_pair_codes, decode_pairs
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


def _group_pairs(n_total: int):
    def pairs_of_bucket(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        members = np.sort(batch["doc"])
        keys = np.zeros(len(members), np.uint64)
        return {"code": bucket_pair_codes(keys, members, n_total)}

    return pairs_of_bucket


def ray_candidates(packed: Packed, params, config: RayConfig | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signatures, left, right) like `near.local_candidates`, computed on Ray."""
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
            return signatures, np.zeros(0, np.int64), np.zeros(0, np.int64)
        grouped = rows.groupby(["band", "key"], num_partitions=config.shards).map_groups(
            _group_pairs(n), batch_format="numpy")
        codes = [batch["code"] for batch in grouped.iter_batches(batch_format="numpy")]
        left, right = decode_pairs(np.concatenate(codes) if codes else np.zeros(0, np.int64), n)
        return signatures, left, right
    finally:
        if started:
            ray.shutdown()
