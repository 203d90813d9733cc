"""The dedup stage: decontamination, exact dedup, then MinHash near dedup, in that order.

1. Every input whose normalized text equals a reference record's, or is a verified near
   duplicate of one, is dropped with `dedup_contaminated` (references are never dropped; they
   are not part of the output at all).
2. The remaining inputs with equal normalized text form exact groups.
3. One text per exact group goes through MinHash LSH (`near.py`); verified pairs join groups
   into clusters (connected components).
4. Per cluster the keep policy picks one record (`keep.py`); every other member is rejected:
   `dedup_exact` when its normalized text equals the keeper's, else `dedup_near`.

    >>> records = datasets.Dataset.from_dict({"id": ["a", "b", "c"], "instruction": [
    ...     "Name three colors.", "name three colors", "Write a poem about the sea."]})
    >>> result = dedup_records(records, DedupConfig(text="instruction"))
    >>> result.kept["id"][:], result.rejected["reason"][:]
    (['a', 'c'], ['dedup_exact'])
    >>> result.rejected.column_names[-5:]
    ['cluster_id', 'duplicate_of', 'stage', 'reason', 'detail']

Rejected rows keep all their columns plus `cluster_id` (clusters numbered from 0 in input
order; decontamination clusters, one per reference record hit, are numbered after them) and
`duplicate_of` (the `id` of the record kept in their place, or of the reference; `row N` when
the records have no `id` column). Kept records are the input rows unchanged, in input order.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence

import datasets
import numpy as np
import pyarrow as pa

from pipelines.dedup.clusters import components, exact_groups
from pipelines.dedup.config import DedupConfig
from pipelines.dedup.keep import keepers, priorities
from pipelines.dedup.near import NearParams, find_near_pairs, take_packed
from pipelines.dedup.normalize import Packed, normalize_packed, pack
from pipelines.dedup.shares import removed_by
from pipelines.dedup.texts import compared_texts
from pipelines.stage import Progress, Rejections, StageResult

STAGE = "dedup"
EXACT, NEAR, CONTAMINATED = "dedup_exact", "dedup_near", "dedup_contaminated"
DEDUP_COLUMNS = {"cluster_id": datasets.Value("int64"), "duplicate_of": datasets.Value("string")}

Reference = datasets.Dataset | Sequence[tuple[str, datasets.Dataset]]


def concat_packed(parts: Sequence[Packed]) -> Packed:
    parts = [p for p in parts if len(p)] or list(parts[:1])
    if len(parts) == 1:
        return parts[0]
    data = np.concatenate([p.data for p in parts]) if parts else np.zeros(0, np.uint8)
    offsets, base = [np.zeros(1, np.int64)], 0
    for p in parts:
        offsets.append(p.offsets[1:] + base)
        base += int(p.offsets[-1])
    return Packed(data, np.concatenate(offsets))


def _normalized(texts: pa.Array, config: DedupConfig) -> tuple[Packed, Packed]:
    """(shingle text, exact key): whitespace is always collapsed for shingles."""
    norm = config.normalize
    raw = pack(texts)
    shingle = normalize_packed(raw, lowercase=norm.lowercase, strip_punctuation=norm.strip_punctuation)
    if norm.collapse_whitespace:
        return shingle, shingle
    return shingle, normalize_packed(raw, lowercase=norm.lowercase,
                                     strip_punctuation=norm.strip_punctuation,
                                     collapse_whitespace=False)


def _arrow(records: datasets.Dataset, column: str) -> pa.Array:
    return records.select_columns([column]).with_format("arrow")[:][column].combine_chunks() \
        if len(records) else pa.array([], pa.string())


def _ids(records: datasets.Dataset, label: str | None = None) -> list[str]:
    """The `id` of every record, or `row N` (`label#N` for references) without an id column."""
    if "id" in records.column_names and records.features["id"] == datasets.Value("string"):
        return _arrow(records, "id").to_pylist()
    return [f"{label}#{i}" if label else f"row {i}" for i in range(len(records))]


def _references(reference: Reference | None, config: DedupConfig) -> tuple[list[str], Packed, Packed]:
    if reference is None:
        parts: list[tuple[str, datasets.Dataset]] = []
    elif isinstance(reference, datasets.Dataset):
        parts = [("reference", reference)]
    else:
        parts = list(reference)
    ids, shingles, keys = [], [], []
    for name, ds in parts:
        ids += _ids(ds, name)
        shingle, key = _normalized(compared_texts(ds, config.text, config.reference_field), config)
        shingles.append(shingle)
        keys.append(key)
    return ids, concat_packed(shingles), concat_packed(keys)


def _table(records: datasets.Dataset) -> pa.Table:
    """The records' Arrow table (through an indices mapping when there is one); much faster
    than `with_format("arrow")[:]`, which copies through the formatter."""
    table = records.data.table
    return table.take(records._indices.column(0)) if records._indices is not None else table


def _fingerprint(records: datasets.Dataset, config: DedupConfig, reference: Reference | None) -> str:
    """A fingerprint for the rejected dataset from its inputs (instead of hashing its rows)."""
    if isinstance(reference, datasets.Dataset):
        reference = [("reference", reference)]
    parts = [records._fingerprint, config.model_dump_json(),
             *(f"{name}:{ds._fingerprint}" for name, ds in reference or [])]
    return hashlib.sha256("\n".join(["dedup-rejected", *parts]).encode()).hexdigest()[:16]


def _best_reference(left: np.ndarray, right: np.ndarray, sim: np.ndarray, n_ref: int,
                    n_reps: int) -> tuple[np.ndarray, np.ndarray]:
    """For each representative (combined index n_ref + k): the reference it is most similar to
    (highest similarity, then lowest index; -1 for none) and that similarity."""
    cross = (left < n_ref) & (right >= n_ref)
    rep, ref, similarity = right[cross] - n_ref, left[cross], sim[cross]
    order = np.lexsort((ref, -similarity, rep))
    rep, ref, similarity = rep[order], ref[order], similarity[order]
    head = np.ones(len(rep), bool)
    head[1:] = rep[1:] != rep[:-1]
    best_ref, best_sim = np.full(n_reps, -1), np.full(n_reps, np.nan)
    best_ref[rep[head]] = ref[head]
    best_sim[rep[head]] = similarity[head]
    return best_ref, best_sim


def _contamination(first: np.ndarray, reps: np.ndarray, pairs, n_ref: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per input: the reference it duplicates (-1 for none) and the similarity (1.0 when the
    normalized texts are equal). A representative's match covers its whole exact group."""
    n = len(first)
    group_of = first - n_ref
    contaminated_by = np.where(group_of < 0, first, -1)
    similarity = np.where(group_of < 0, 1.0, np.nan)
    rep_ref, rep_sim = _best_reference(pairs.left, pairs.right, pairs.similarity, n_ref, len(reps))
    rep_of = np.full(n, -1)
    rep_of[reps] = np.arange(len(reps))
    rep_of = np.where(group_of >= 0, rep_of[np.maximum(group_of, 0)], -1)
    if len(reps):
        hit = (rep_of >= 0) & (rep_ref[np.maximum(rep_of, 0)] >= 0)
        contaminated_by[hit] = rep_ref[rep_of[hit]]
        similarity[hit] = rep_sim[rep_of[hit]]
    return contaminated_by, similarity


def _cluster_labels(group_of: np.ndarray, reps: np.ndarray, pairs, n_ref: int,
                    contaminated: np.ndarray) -> np.ndarray:
    """Connected components over exact-group edges and verified near pairs between
    representatives; contaminated inputs stay alone."""
    n = len(group_of)
    within = (pairs.left >= n_ref) & (pairs.right >= n_ref)
    near_left, near_right = reps[pairs.left[within] - n_ref], reps[pairs.right[within] - n_ref]
    clean = ~contaminated[near_left] & ~contaminated[near_right]
    exact_members = np.flatnonzero(~contaminated & (group_of != np.arange(n)))
    return components(n, np.concatenate([near_left[clean], group_of[exact_members]]),
                      np.concatenate([near_right[clean], exact_members]))


def dedup_records(records: datasets.Dataset, config: DedupConfig, *, model: None = None,
                  progress: Progress | None = None, reference: Reference | None = None
                  ) -> StageResult:
    """Drop contaminated, exact and near-duplicate records (see the module docstring). The
    stage uses no model (`model` must stay None); `reference` holds the sets to decontaminate
    against, a Dataset or (name, Dataset) pairs."""
    if model is not None:
        raise ValueError("dedup_records uses no model; call it without `model`")
    started = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str, since: list[float] = [started]) -> None:  # noqa: B006 - a private timer
        now = time.perf_counter()
        seconds[name] = round(now - since[0], 3)
        since[0] = now

    n = len(records)
    texts = compared_texts(records, config.text)
    shingle, key = _normalized(texts, config)
    ref_ids, ref_shingle, ref_key = _references(reference, config)
    n_ref = len(ref_ids)
    lap("normalize")

    # exact: references first, so a group holding a reference has a reference as its first
    first = exact_groups(concat_packed([ref_key, key]))[n_ref:]
    group_of = first - n_ref  # input index of the exact group's first member; < 0: a reference
    reps = np.flatnonzero(group_of == np.arange(n))
    lap("exact")

    params = NearParams.from_config(config)
    rep_shingle = shingle if len(reps) == n else take_packed(shingle, reps)
    pairs = find_near_pairs(concat_packed([ref_shingle, rep_shingle]), params, n_ref=n_ref,
                            backend=config.backend, ray_config=config.ray, progress=progress)
    contaminated_by, contamination_sim = _contamination(first, reps, pairs, n_ref)
    contaminated = contaminated_by >= 0
    labels = _cluster_labels(group_of, reps, pairs, n_ref, contaminated)
    lap("near")

    keeper = keepers(labels, priorities(records, texts, config.keep))
    sizes = np.bincount(labels, minlength=n)
    multi = np.flatnonzero((sizes >= 2) & (np.arange(n) == labels) & ~contaminated)
    cluster_number = np.full(n, -1)
    cluster_number[multi] = np.arange(len(multi))

    ids = _ids(records)
    rejected_index = np.flatnonzero((keeper != np.arange(n)) | contaminated)
    ref_hits = sorted(set(contaminated_by[contaminated].tolist()))
    ref_cluster = {ref: len(multi) + k for k, ref in enumerate(ref_hits)}
    rows: dict[str, list] = {"reason": [], "detail": [], "cluster_id": [], "duplicate_of": []}
    how = (f"Jaccard >= {config.threshold} by {config.verify} verification"
           if config.verify != "none" else "LSH candidates, unverified")
    for i in rejected_index.tolist():
        if contaminated[i]:
            ref = int(contaminated_by[i])
            reason, cluster, kept_id = CONTAMINATED, ref_cluster[ref], ref_ids[ref]
            detail = (f"same normalized text as reference {kept_id}" if group_of[i] < 0 else
                      f"near duplicate (Jaccard {contamination_sim[i]:.3f}) of reference {kept_id}")
        else:
            k = int(keeper[i])
            cluster, kept_id = int(cluster_number[labels[i]]), ids[k]
            if group_of[i] == group_of[k]:  # same normalized text as the keeper
                reason, detail = EXACT, f"same normalized text as {kept_id}"
            else:
                reason = NEAR
                detail = f"near duplicate of {kept_id} (cluster of {int(sizes[labels[i]])}, {how})"
        for name, value in zip(rows, (reason, detail, cluster, kept_id)):
            rows[name].append(value)
    rejections = Rejections(STAGE, records.features, extra_columns=DEDUP_COLUMNS)
    rejections.add_table(_table(records).take(rejected_index), rows["reason"], rows["detail"],
                         cluster_id=rows["cluster_id"], duplicate_of=rows["duplicate_of"])
    rejected = rejections.dataset(fingerprint=_fingerprint(records, config, reference))
    kept_index = np.flatnonzero((keeper == np.arange(n)) & ~contaminated)
    kept = records.select(kept_index) if len(kept_index) != n else records
    lap("output")

    cluster_sizes = Counter(int(s) for s in sizes[multi])
    stats = rejections.stats(
        rows_in=n,
        kept=int(len(kept_index)),
        clusters=int(len(multi)),
        cluster_sizes={str(s): c for s, c in sorted(cluster_sizes.items())},
        largest_cluster=int(max(cluster_sizes, default=0)),
        exact_groups=int(len(reps)),
        reference_records=n_ref,
        removed_by=removed_by(records, np.isin(np.arange(n), rejected_index)),
        lsh={"bands": params.bands, "rows": params.rows, "num_perm": params.num_perm,
             "threshold": params.threshold, "verify": params.verify, "scheme": params.scheme,
             **pairs.counts},
        seconds={**seconds, "total": round(time.perf_counter() - started, 3)},
    )
    return StageResult(kept=kept, rejected=rejected, stats=stats)
