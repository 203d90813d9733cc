"""The `train:` section of a pipeline config: training stages that run after the data stages.

    train:
      - stage: sft              # a registered stage (alignment.registry)
        max_steps: 5            # any field of the stage's config, as in configs/train_*.yaml
      - stage: reward
      - stage: dpo              # model: the sft entry (by name), trained first
      - stage: ppo              # model: sft, reward_model: reward (both wired by default)
        name: ppo_small         # default: the stage; names the run folder <out>/train/<name>

Which records each entry trains on (`data:`, or `dataset:` for a file of your own):

    published_sft, published_preferences, published_best_of_n
        the published dataset's `sft` / `preferences` / `best_of_n` train split, through the
        handoff folder written beside it (<out>/handoff/<config>/); the default whenever the
        config publishes to a local folder
    judge, dedup, templating, self_instruct   that data stage's kept records
    pairs, best_of_n                          the preference stage's pairs / best-of-n answers

Defaults without publishing: sft <- judge, else dedup, else the one generator, else best_of_n;
reward and dpo <- pairs; ppo, grpo, rloo (prompts) <- pairs, else what sft would read.

`model`, `reward_model`, `value_model` and `ref_model` may name an earlier entry: its run
folder (its `model/`) is used. By default dpo, ppo, grpo and rloo start from the last earlier
sft entry, and ppo, grpo and rloo take the last earlier reward entry as `reward_model`.
`out` belongs to the pipeline and may not be set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipelines.errors import ConfigError

MODEL_FIELDS = ("model", "reward_model", "value_model", "ref_model")
PUBLISHED = {"published_sft": "sft", "published_preferences": "preferences",
             "published_best_of_n": "best_of_n"}
STAGE_SOURCES = ("templating", "self_instruct", "dedup", "judge")
PAIR_SOURCES = {"pairs": "", "best_of_n": "best_of_n"}
DATA_SOURCES = (*PUBLISHED, *STAGE_SOURCES, *PAIR_SOURCES)
STARTS_FROM_SFT = ("dpo", "ppo", "grpo", "rloo")
NEEDS_REWARD = ("ppo", "grpo", "rloo")


class TrainEntry(BaseModel):
    """One entry of `train:`; fields other than these three are the stage's own."""

    model_config = ConfigDict(extra="allow", frozen=True)

    stage: str
    name: str | None = None
    data: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.stage

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def default_data(kind: str, stages: list[str], published: bool) -> str | None:
    """The data source of a stage that trains on `kind` records (see the module docstring);
    None when the pipeline has nothing of that kind."""
    if kind == "preferences":
        if published and "preferences" in stages:
            return "published_preferences"
        return "pairs" if "preferences" in stages else None
    if kind == "prompts" and "preferences" in stages:
        return "published_preferences" if published else "pairs"
    if published and stages:
        return "published_sft"
    for stage in ("judge", "dedup"):
        if stage in stages:
            return stage
    generators = [s for s in ("templating", "self_instruct") if s in stages]
    if len(generators) == 1:
        return generators[0]
    return "best_of_n" if "preferences" in stages else None


def data_path(source: str, run_dir: Path) -> Path:
    """Where a data source's records are in a pipeline run folder."""
    if source in PUBLISHED:
        return handoff_file(run_dir, PUBLISHED[source])
    if source in PAIR_SOURCES:
        return run_dir / "preferences" / PAIR_SOURCES[source] if PAIR_SOURCES[source] \
            else run_dir / "preferences"
    return run_dir / source


def handoff_file(run_dir: Path, config: str) -> Path:
    """The handoff records of one published config: <run>/handoff/<config>/<sft|pairs>.jsonl."""
    return run_dir / "handoff" / config / ("pairs.jsonl" if config == "preferences" else "sft.jsonl")


def wire(entries: list[TrainEntry], stages: list[str], published: bool
         ) -> tuple[list[dict[str, Any]], list[str]]:
    """Each entry's plan {name, stage, data | dataset, refs: {field: earlier entry}, fields};
    and every problem found (unknown stage, duplicate name, missing source, unknown ref)."""
    from alignment.registry import STAGES

    plans, problems, seen = [], [], {}
    for i, entry in enumerate(entries):
        where = f"train[{i}]"
        if entry.stage not in STAGES:
            problems.append(f"{where}.stage: expected one of {list(STAGES)}, got {entry.stage!r}")
            continue
        if entry.key in seen:
            problems.append(f"{where}.name: {entry.key!r} names an earlier entry too; give each "
                            "entry its own `name`")
            continue
        fields = entry.fields
        if "out" in fields:
            problems.append(f"{where}.out: set by the pipeline (<out>/train/{entry.key}); remove it")
        refs = {f: fields.pop(f) for f in MODEL_FIELDS if isinstance(fields.get(f), str)
                and fields[f] in seen}
        for wanted, stages_of, field_name in ((entry.stage in STARTS_FROM_SFT, "sft", "model"),
                                              (entry.stage in NEEDS_REWARD, "reward",
                                               "reward_model")):
            earlier = [n for n, s in seen.items() if s == stages_of]
            if wanted and earlier and field_name not in fields and field_name not in refs:
                refs[field_name] = earlier[-1]
        plan = {"name": entry.key, "stage": entry.stage, "refs": refs, "fields": fields}
        if "dataset" in fields:
            if entry.data is not None:
                problems.append(f"{where}.data: give `data` or `dataset`, not both")
        else:
            source = entry.data or default_data(STAGES[entry.stage].data, stages, published)
            problem = _source_problem(source, entry, stages, published)
            if problem:
                problems.append(f"{where}.data: {problem}")
            plan["data"] = source
        plans.append(plan)
        seen[entry.key] = entry.stage
    return plans, problems


def _source_problem(source: str | None, entry: TrainEntry, stages: list[str],
                    published: bool) -> str | None:
    if source is None:
        return (f"the pipeline makes no records {entry.stage} can train on; set `data` "
                f"(one of {list(DATA_SOURCES)}) or `dataset` (a file)")
    if source not in DATA_SOURCES:
        return f"expected one of {list(DATA_SOURCES)}, got {source!r}"
    if source in PUBLISHED and not published:
        return (f"{source!r} needs a `publish:` section with a local folder among its targets; "
                "name a data stage instead")
    needed = "preferences" if source in PAIR_SOURCES or source == "published_preferences" \
        or source == "published_best_of_n" else source if source in STAGE_SOURCES else None
    if needed is not None and needed not in stages:
        return f"{source!r} needs the {needed} stage, which this config does not run"
    return None


def check_train(entries: list[TrainEntry], stages: list[str], published: bool, *,
                base_dir: Path) -> list[str]:
    """Every problem of the `train:` section, each named `train[i].<field>`, found before any
    data stage runs: wiring (`wire`) and each stage's config (with stand-ins for the paths
    that exist only once earlier stages ran), its `trainer` options checked against TRL."""
    from alignment.run import train_config

    plans, problems = wire(entries, stages, published)
    for i, plan in enumerate(plans):
        section = {**plan["fields"], **{f: "embedded" for f in plan["refs"]}}
        section.setdefault("dataset", str(Path(base_dir).resolve()))
        section.pop("out", None)
        try:
            train_config(section, plan["stage"], base_dir=base_dir, out=base_dir / "train",
                         prefix=f"train[{i}]")
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems


def stage_config(plan: dict[str, Any], run_dir: Path, *, base_dir: Path):
    """The stage config of one planned entry in the run folder `run_dir`, once the entries it
    names have trained (their run folders exist)."""
    from alignment.run import train_config

    section = dict(plan["fields"])
    for field_name, ref in plan["refs"].items():
        section[field_name] = str(train_dir(run_dir, ref))
    if "data" in plan:
        section["dataset"] = str(data_path(plan["data"], run_dir))
    return train_config(section, plan["stage"], base_dir=base_dir,
                        out=train_dir(run_dir, plan["name"]), prefix=f"train.{plan['name']}",
                        check_trainer=False)


def train_dir(run_dir: Path, name: str) -> Path:
    return run_dir / "train" / name
