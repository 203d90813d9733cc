"""The distributed path: signatures per shard as Ray tasks, buckets grouped with Ray Data.

    texts --split into shards--> [Ray task: signatures + band keys] x shards
          --rows (band, key, doc)--> ray.data groupby(band, key) --map_groups--> pair codes

Each task runs the same compiled kernels as the local path on its contiguous slice of the
packed texts; each bucket is turned into pairs, or kept whole when large, by the same rule
(`lsh.bucket_pair_codes`), so the candidates, and therefore the accepted pairs and clusters,
are exactly the local ones. Verification and connected components run on the driver
(`near.verify_candidates`, `clusters.components`): their input, the candidates, is small.

    signatures, candidates = ray_candidates(packed, params, RayConfig(shards=2))

`ray` is imported inside the functions; without it a MissingExtraError names the extra to
install. A local Ray instance is started when none is running and `address` is not set, and is
shut down again afterwards.

Not here: shuffling the verification itself across the cluster.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.dedup.config import RayConfig
from pipelines.dedup.lsh import Candidates, band_keys, bucket_pair_codes, decode_pairs
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
    """Per bucket: rows (large, value, band, key): pair codes of a small bucket (large 0), or
    the members of a large one (large 1), so the driver can order them as the local path."""
    def pairs_of_bucket(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        members = np.sort(batch["doc"])
        codes, large, _ = bucket_pair_codes(np.zeros(len(members), np.uint64), members, n_total)
        value = np.concatenate([codes, large])
        return {"large": np.repeat(np.array([0, 1], np.int8), [len(codes), len(large)]),
                "value": value, "band": np.full(len(value), batch["band"][0], np.int32),
                "key": np.full(len(value), batch["key"][0], np.int64)}

    return pairs_of_bucket


def _candidates(batches: list[dict[str, np.ndarray]], n: int) -> Candidates:
    """The grouped rows as `lsh.Candidates`, large buckets ordered by (band, key) as locally."""
    rows = {name: np.concatenate([b[name] for b in batches]) if batches else np.zeros(0, np.int64)
            for name in ("large", "value", "band", "key")}
    small = rows["large"] == 0
    left, right = decode_pairs(rows["value"][small].astype(np.int64), n)
    band, key, member = rows["band"][~small], rows["key"][~small].view(np.uint64), \
        rows["value"][~small].astype(np.int64)
    order = np.lexsort((member, key, band))
    band, key, member = band[order], key[order], member[order]
    starts = np.flatnonzero(np.r_[True, (band[1:] != band[:-1]) | (key[1:] != key[:-1])]) \
        if len(member) else np.zeros(0, np.int64)
    return Candidates(left, right, member, np.r_[starts, len(member)].astype(np.int64))


def ray_candidates(packed: Packed, params, config: RayConfig | None = None
                   ) -> tuple[np.ndarray, Candidates]:
    """(signatures, candidates) like `near.local_candidates`, computed on Ray."""
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
            return signatures, _candidates([], n)
        grouped = rows.groupby(["band", "key"], num_partitions=config.shards).map_groups(
            _group_pairs(n), batch_format="numpy")
        return signatures, _candidates(list(grouped.iter_batches(batch_format="numpy")), n)
    finally:
        if started:
            ray.shutdown()
