"""Templating throughput: the `render_templates` stage against naive per-row Jinja.

Renders every GLUE RTE row (train + dev) with every built-in NLI template (zero-shot, no
options, so both sides do the same rendering work) and reports rendered examples per second.

Baseline "naive jinja2.Template per row": for each row and template, build
`jinja2.Template(source)` for prompt and target and render them. This is what a quick script
does; tuneset compiles each template once in a sandbox and also builds full records
(messages, ids, lineage) and a Dataset, which the baseline does not.

    python benchmarks/templating.py [--data ../shared/data] [--repeat 3]

The ratio (tuneset / baseline) is printed last.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import jinja2

from pipelines.templating import TemplatingConfig, read_task_rows, render_templates
from pipelines.templating.templates import builtin_templates

REPO = Path(__file__).resolve().parents[1]


def rte_rows(data: Path) -> list[dict]:
    rows = []
    for split in ("train", "dev"):
        with open(data / f"glue_rte/{split}.tsv", encoding="utf-8") as fh:
            rows += list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows


def naive(rows: list[dict]) -> int:
    """Build a jinja2.Template per row and template; return examples rendered."""
    templates = builtin_templates("nli")
    made = 0
    for row in rows:
        positive = row["label"] == "entailment"
        variables = {"premise": row["sentence1"], "hypothesis": row["sentence2"],
                     "answer": "yes" if positive else "no", "options": ["yes", "no"],
                     "label": row["label"], "is_positive": positive}
        for t in templates:
            if t.when and not jinja2.Environment().compile_expression(t.when)(**variables):
                continue
            prompt = jinja2.Template(t.prompt).render(**variables)
            target = jinja2.Template(t.target).render(**variables)
            made += bool(prompt and target)
    return made


def tuneset(data: Path) -> int:
    spec = {"fields": {"premise": "sentence1", "hypothesis": "sentence2"}, "type": "nli",
            "label_field": "label", "labels": {"entailment": "yes", "not_entailment": "no"},
            "positive_label": "entailment"}
    config = TemplatingConfig(
        tasks=[{"name": "rte_train", "source": data / "glue_rte/train.tsv", **spec},
               {"name": "rte_dev", "source": data / "glue_rte/dev.tsv", **spec}],
        templates_per_row="all", formats={"zero_shot_no_options": 1},
        mixing={"max_rate": None}, budget={"max_prompt": 1_000_000})
    return len(render_templates(read_task_rows(config), config).kept)


def timed(fn, repeat: int) -> tuple[float, int]:
    times, made = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        made = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "glue_rte/train.tsv").exists():
        print(f"GLUE RTE not found under {args.data}; pass --data", file=sys.stderr)
        return 2
    rows = rte_rows(args.data)
    print(f"RTE rows: {len(rows)}, built-in NLI templates: {len(builtin_templates('nli'))}")
    base_s, base_n = timed(lambda: naive(rows), args.repeat)
    ours_s, ours_n = timed(lambda: tuneset(args.data), args.repeat)
    if base_n != ours_n:
        print(f"mismatch: baseline rendered {base_n} examples, tuneset {ours_n}", file=sys.stderr)
        return 1
    base_rate, ours_rate = base_n / base_s, ours_n / ours_s
    print(f"examples rendered per run: {ours_n} (median of {args.repeat} runs)")
    print(f"naive jinja2.Template per row: {base_s:8.2f} s  {base_rate:10.0f} examples/s")
    print(f"tuneset render_templates:      {ours_s:8.2f} s  {ours_rate:10.0f} examples/s")
    print(f"ratio (tuneset / naive jinja2.Template per row): {ours_rate / base_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
