"""The card's prose and tables, written from the run: what each stage did, the models, the
limitations a reviewer must know, the references, and the command that reproduces a version.

Every function returns plain Markdown (tables as GitHub pipe tables) for `card.md.jinja`.
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.counts import count_of
from pipelines.publish.config import Target
from pipelines.publish.run import RunFolder, StageRun

REFERENCES = {
    "templating": [
        "FLAN: Wei et al., *Finetuned Language Models Are Zero-Shot Learners*, ICLR 2022, "
        "[arXiv:2109.01652](https://arxiv.org/abs/2109.01652)",
        "The Flan Collection: Longpre et al., *Designing Data and Methods for Effective "
        "Instruction Tuning*, ICML 2023, [arXiv:2301.13688](https://arxiv.org/abs/2301.13688)"],
    "self_instruct": [
        "Self-Instruct: Wang et al., *Aligning Language Models with Self-Generated "
        "Instructions*, ACL 2023, [arXiv:2212.10560](https://arxiv.org/abs/2212.10560)"],
    "dedup": [
        "MinHash: Broder, *On the Resemblance and Containment of Documents*, SEQUENCES 1997",
        "Lee et al., *Deduplicating Training Data Makes Language Models Better*, ACL 2022, "
        "[arXiv:2107.06499](https://arxiv.org/abs/2107.06499)"],
    "judge": [
        "AlpaGasus: Chen et al., *Training a Better Alpaca with Fewer Data*, ICLR 2024, "
        "[arXiv:2307.08701](https://arxiv.org/abs/2307.08701)",
        "G-Eval: Liu et al., *NLG Evaluation using GPT-4 with Better Human Alignment*, EMNLP "
        "2023, [arXiv:2303.16634](https://arxiv.org/abs/2303.16634)"],
    "preferences": [
        "UltraFeedback: Cui et al., *Boosting Language Models with Scaled AI Feedback*, ICML "
        "2024, [arXiv:2310.01377](https://arxiv.org/abs/2310.01377)"],
}
TRL = ("TRL: von Werra et al., *TRL: Transformer Reinforcement Learning*, 2020, "
       "<https://github.com/huggingface/trl>")

CONFIG_ABOUT = {
    "sft": "Instruction records in TRL's conversational format: `messages` (user, assistant), the "
           "Alpaca view `instruction` / `input` / `output`, `id` (content id) and `meta` (how each "
           "stage made or scored the record). For `SFTTrainer`.",
    "preferences": "Preference pairs in TRL's conversational format: `prompt` (messages), "
                   "`chosen` and `rejected` (assistant messages), `score_chosen`, "
                   "`score_rejected`, `id` and `meta` (scorer, verdicts, every candidate's score). "
                   "For `DPOTrainer` and `RewardTrainer`.",
    "best_of_n": "The top-scored sampled answer per prompt (rejection sampling), as instruction "
                 "records like `sft`.",
    "rejected": "Every record a stage dropped: `stage`, `reason`, `detail`, `id` (the content id "
                "when the record had one) and `record` (the whole original row as a JSON object "
                "string). For auditing the filters, not for training.",
}
CONFIG_FORMAT = {"sft": "conversational (messages)", "preferences": "conversational preference",
                 "best_of_n": "conversational (messages)", "rejected": "audit"}


def cell(value: Any) -> str:
    """A value as one Markdown table cell: pipes escaped, newlines folded."""
    text = "-" if value is None or value == "" else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fenced(text: str, language: str = "json") -> str:
    """`text` in a code fence longer than any backtick run inside it."""
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _truncate(value: Any, limit: int = 400) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"... [{len(value) - limit} more characters]"
    if isinstance(value, dict):
        return {k: _truncate(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_truncate(v, limit) for v in value]
    return value


def sample_block(row: dict[str, Any]) -> str:
    """One record as indented JSON (long strings shortened) in a code fence."""
    return fenced(json.dumps(_truncate(row), indent=2, ensure_ascii=False, default=str))


def reasons_text(stage: StageRun) -> str:
    from pipelines.publish.lineage import rejected_by_reason

    reasons = rejected_by_reason(stage)
    return ", ".join(f"{k}: {v}" for k, v in reasons.items()) or "-"


def _dedup_shares(stats: dict[str, Any], limit: int = 3) -> str:
    """The values of the first grouping column (task, template, source) with the largest share
    of records removed, from the dedup stats' `removed_by`."""
    for column, values in (stats.get("removed_by") or {}).items():
        top = [(v, c) for v, c in values.items() if c.get("removed")][:limit]
        if top:
            shown = ", ".join(f"{v} {c['removed']} of {c['rows']} ({c['share']:.0%})"
                              for v, c in top)
            return f" Most removed by `{column}`: {shown}."
    return ""


def stage_about(stage: StageRun) -> str:
    """What the stage did, in a sentence, from its config and stats."""
    config, stats = stage.manifest.get("config") or {}, stage.stats
    if stage.name == "templating":
        tasks = ", ".join(t.get("name", "?") for t in config.get("tasks", []))
        return (f"FLAN-style templating of raw task files into instruction examples "
                f"(tasks: {tasks or '-'}; options style {config.get('options_style', '-')}).")
    if stage.name == "self_instruct":
        return (f"{config.get('mode', 'self_instruct')} bootstrap from seed tasks: "
                f"{stats.get('rounds', '?')} rounds, {stats.get('candidates', '?')} candidate "
                f"tasks, ROUGE-L novelty threshold "
                f"{(config.get('filters') or {}).get('rouge_threshold', '-')}.")
    if stage.name == "dedup":
        return (f"exact and MinHash near-duplicate removal on `{config.get('text', '-')}` "
                f"(Jaccard threshold {config.get('threshold', '-')}, keep "
                f"{(config.get('keep') or {}).get('policy', '-')}); "
                f"{len(config.get('reference') or [])} reference set(s) for decontamination."
                + _dedup_shares(stats))
    if stage.name == "judge":
        return (f"an LLM judge rated each example for {config.get('aspect', '-')} "
                f"({config.get('mode', '-')} scoring, 0-5) and kept those with score >= "
                f"{config.get('threshold', '-')} (AlpaGasus).")
    if stage.name == "preferences":
        scorer = config.get("scorer") or {}
        k = sum(s.get("n", 0) for s in config.get("samplers", []))
        return (f"{k} sampled answers per prompt, scored by {scorer.get('kind', '-')}, paired by "
                f"the {config.get('policy', '-')} policy (UltraFeedback); margin "
                f"{config.get('margin', 0)}.")
    return "a pipeline stage."


def _counted(n: int, unit: str | None) -> str | int:
    return count_of(n, unit) if unit else n


def stages_table(run: RunFolder) -> str:
    """One row per stage: in, kept and rejected with their units (a generator stage takes one
    unit in and gives another out: templating rows in, examples out; `pipelines.counts`)."""
    rows = [[s.name, _counted(s.records_in, s.summary.get("in_unit")),
             _counted(s.rows.get("kept", 0), s.summary.get("kept_unit")),
             s.summary.get("rejected_units") or s.rows.get("rejected", 0),
             reasons_text(s), s.seconds] for s in run.stages.values()]
    return md_table(["stage", "in", "kept", "rejected", "rejected by reason", "seconds"], rows)


def _params_text(params: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (params or {}).items()) or "-"


def models_table(lineage: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """The models table, one line of settings per judge, and one line per decoding-parameter
    block not beside a model (e.g. self-instruct's `instances.params`)."""
    rows, judges, decoding = [], [], []
    for stage, info in lineage["stages"].items():
        beside = {"params" if m["role"] == "model" else f"{m['role']}.params"
                  for m in info["models"]}
        decoding += [f"{stage} (`{where}`): {_params_text(params)}"
                     for where, params in info["decoding"].items() if where not in beside]
        for model in info["models"]:
            pin = (f"sha256 `{model['sha256'][:16]}...`" if model.get("sha256")
                   else f"revision `{model['revision']}`" if model.get("revision") else "unpinned")
            rows.append([stage, f"`{model['role']}`", model["id"], model["backend"], pin,
                         _params_text(model.get("params"))])
            if model.get("judge"):
                judges.append(f"{stage} (`{model['role']}`, {model['id']}): "
                              + _params_text(model["judge"]))
    if not rows:
        return "No model was used: every record was rendered from the input files.", [], []
    return md_table(["stage", "role", "model", "backend", "file hash / revision",
                     "decoding parameters"], rows), judges, decoding


def limitations(run: RunFolder, lineage: dict[str, Any]) -> list[str]:
    """Self-preference warnings, whether the judge was evaluated, and what synthetic means."""
    items = []
    models = sorted({m["id"] for s in lineage["stages"].values() for m in s["models"]})
    if models:
        items.append(f"Models ({', '.join(models)}) wrote or scored these records: what they "
                     "wrote can be wrong, biased or repetitive, their scores are only as good as "
                     "they are, and their own terms of use apply.")
    for stage in run.stages.values():
        for key in ("self_preference", "self_preference_warning"):
            warning = stage.stats.get(key)
            if warning:
                text = str(warning).removeprefix("self-preference: ")
                items.append(f"Self-preference ({stage.name}): {text}")
    judged = "judge" in run.stages or any(
        m.get("judge") for s in lineage["stages"].values() for m in s["models"])
    if judged and not run.judge_evals:
        items.append("The judge was not evaluated: this run has no `judge_eval.json` "
                     "(`tuneset judge-eval`), so its agreement with human preferences is unknown "
                     "and its scores are only as good as the judge model.")
    elif judged:
        items.append("The judge was evaluated on labelled preferences; the figures follow.")
    items.append("The `test` split is a hash-based sample of the same distribution, not an "
                 "independent benchmark.")
    return items


def judge_eval_tables(run: RunFolder) -> list[str]:
    from pipelines.judge.evaluate import report_table

    tables = []
    for report in run.judge_evals:
        rows = report_table(report)
        head = (f"*{report['path']}: {report.get('rows', '?')} labelled pairs from "
                f"`{report.get('file', '?')}`*")
        tables.append(head + "\n\n" + md_table(list(rows[0]), [list(r.values()) for r in rows]))
    return tables


def references(run: RunFolder) -> list[str]:
    return [r for stage in run.stages for r in REFERENCES.get(stage, [])] + [TRL]


def description(run: RunFolder, pretty_name: str, configs: list[str]) -> str:
    steps = {"templating": "FLAN-style templates over raw task files",
             "self_instruct": "Self-Instruct bootstrapping from seed tasks",
             "dedup": "exact and MinHash near-duplicate removal",
             "judge": "an AlpaGasus-style LLM-judge quality filter",
             "preferences": "UltraFeedback-style sampled, scored and paired answers"}
    made = "; ".join(steps[s] for s in run.stages if s in steps)
    return (f"{pretty_name} is a synthetic instruction-tuning and preference dataset built with "
            f"tuneset (run `{run.name}`): {made}. It has the configs "
            f"{', '.join(f'`{c}`' for c in configs)}, in the formats TRL's trainers read.")


def load_target(targets: list[Target]) -> Target:
    """The target a reader is told to load: the first Hub target, else the first local one."""
    hub = [t for t in targets if t.kind == "hub"]
    return hub[0] if hub else targets[0]


def load_args(target: Target) -> str:
    return json.dumps(target.repo_id if target.kind == "hub" else str(target.path))


def load_hint(target: Target, version: str) -> str:
    if target.kind == "hub":
        return (f"Pin this version with `revision=\"{version}\"` (a tag), as a paper or a training "
                "config should.")
    return (f"The folder is a git repository with one tag per version: "
            f"`git -C {target.path} checkout {version}` pins this version.")


def reproduce(target: Target, version: str, run_name: str, tuneset: dict[str, Any]) -> str:
    """Shell commands that rebuild this version from its pinned config."""
    install = f'pip install "tuneset=={tuneset.get("version") or "0.1.0"}"'
    if tuneset.get("git_commit"):
        install += f"   # source commit {tuneset['git_commit']}"
    if target.kind == "hub":
        fetch = (f"hf download {target.repo_id} pipeline.yaml --repo-type dataset "
                 f"--revision {version} --local-dir {run_name}-{version}")
    else:
        fetch = (f"mkdir -p {run_name}-{version} && git -C {target.path} show "
                 f"{version}:pipeline.yaml > {run_name}-{version}/pipeline.yaml")
    return "\n".join([install, fetch,
                      f"tuneset run {run_name}-{version}/pipeline.yaml --out runs/{run_name}",
                      f"tuneset publish runs/{run_name} --repo {target}"])
