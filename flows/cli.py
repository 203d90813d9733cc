"""The `tuneset` command line: one sub-command per stage, `run` for a whole config.

Each command is a thin shell over a flow in `flows/`. Every error is one clear line, no
traceback: bad input or config exits with status 2, any other failure with 1 (docs/cli.md).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flows import STARTUP_TIMEOUT  # the temporary Prefect server's startup timeout (120 s)
from pipelines.errors import TunesetError

app = typer.Typer(name="tuneset", no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Build instruction-tuning and preference datasets and hand them to training.")
console = Console()
ConfigArg = Annotated[Path, typer.Argument(help="pipeline config (YAML)")]
errors = Console(stderr=True)


def _check_out(out: Path | None) -> Path | None:
    """`--out` must be a folder (new or existing): checked before any work."""
    if out is not None and out.exists() and not out.is_dir():
        _fail(f"--out {out}: an existing file; name a folder (new, or a previous run's)")
    return out


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="folder to write the run into",
                                      callback=_check_out)]


class _NoUserErrorTracebacks(logging.Filter):
    """Prefect logs a failed task's traceback; for bad input or config that is noise: the
    message names the file, line and field already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TunesetError):
            record.exc_info, record.exc_text = None, None
        return True


def _quiet_user_errors() -> None:
    for handler in logging.getLogger().handlers + logging.getLogger("prefect").handlers:
        if not any(isinstance(f, _NoUserErrorTracebacks) for f in handler.filters):
            handler.addFilter(_NoUserErrorTracebacks())


def _fail(message: str, code: int = 2) -> None:
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _run(action: Callable[[], Any]) -> Any:
    """Run `action`; any error becomes one line: exit 2 for bad input or config, 1 for any
    other failure (TUNESET_TRACEBACK=1 shows the traceback of those)."""
    from pipelines.io import FolderBusyError

    _quiet_user_errors()
    try:
        return action()
    except FolderBusyError as exc:
        _fail(str(exc), 1)
    except TunesetError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; finished stages and shards stay cached, a re-run resumes", 130)
    except Exception as exc:  # noqa: BLE001 - the one place every other failure is reported
        if os.environ.get("TUNESET_TRACEBACK"):
            raise
        _fail(_failure_line(exc), 1)


def _failure_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if "Timed out while attempting to connect to ephemeral Prefect API server" in text:
        return (f"the temporary Prefect server did not start within "
                f"{os.environ.get(STARTUP_TIMEOUT)} s (a busy machine?); raise {STARTUP_TIMEOUT}, "
                "or start a server (`prefect server start`) and set PREFECT_API_URL to use it")
    if len(text) > 300:
        text = text[:300] + " ..."
    return (f"{type(exc).__name__}: {text} (set TUNESET_TRACEBACK=1 to see where it failed)")


def _print_counts(rows: list[dict[str, Any]], out: Path) -> None:
    from flows.counts_table import print_counts

    print_counts(console, rows, out)


@app.callback()
def _start() -> None:
    from pipelines.threads import configure_threads

    _run(configure_threads)  # TUNESET_THREADS or the CPUs found, before any library starts threads


@app.command()
def validate(config: ConfigArg, data: Annotated[bool, typer.Option(
        "--data/--no-data", help="also read every local input file the config names")] = True
             ) -> None:
    """Check a pipeline config (and the data it names) and report every problem at once."""
    from pipelines.config import check_config
    from pipelines.data_checks import check_data

    loaded, problems = check_config(config)
    if data and loaded is not None:
        problems = _run(lambda: check_data(loaded))
    if problems:
        errors.print(f"[bold red]{config}: {len(problems)} problem(s)[/]")
        for problem in problems:
            errors.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(1)
    console.print(f"{config}: ok (stages: {', '.join(loaded.stages()) or 'none'})", soft_wrap=True)


JsonlOpt = Annotated[bool, typer.Option(help="also write JSONL copies")]


def _spec(label: str, section: str, more: str = ""):
    return Annotated[Path, typer.Argument(help=f"{label} config: a pipeline config or just its "
                                               f"`{section}` section{more}")]


TemplatingSpec, SelfInstructSpec = _spec("templating", "templating"), _spec("self-instruct", "self_instruct")
DedupSpec, JudgeSpec = _spec("dedup", "dedup"), _spec("judge", "judge")
PreferencesSpec = _spec("preference", "preferences", " (with `inputs`)")


def _stage(spec: Path, section: str, config_class: type, flow: Callable[..., dict], out: Path,
           jsonl: bool, check: Callable[[Any], Any] | None = None) -> None:
    """A record stage's command: load `section` of `spec`, `check` it before Prefect starts,
    run `flow` into `out`, print the counts."""
    from pipelines.config import load_section

    config = _run(lambda: load_section(spec, section, config_class))
    if check is not None:
        _run(lambda: check(config))
    _print_counts([_run(lambda: flow(config, str(out), jsonl=jsonl))], out)


@app.command()
def template(spec: TemplatingSpec, out: OutOpt, jsonl: JsonlOpt = False) -> None:
    """Render raw task files into FLAN-style instruction examples."""
    from flows.templating import templating_flow
    from pipelines.templating import TemplatingConfig

    _stage(spec, "templating", TemplatingConfig, templating_flow, out, jsonl)


@app.command("self-instruct")
def self_instruct(spec: SelfInstructSpec, out: OutOpt, jsonl: JsonlOpt = False) -> None:
    """Bootstrap new instruction tasks from seed tasks with a model (resumes finished rounds)."""
    from flows.self_instruct import self_instruct_flow
    from pipelines.self_instruct import SelfInstructConfig

    _stage(spec, "self_instruct", SelfInstructConfig, self_instruct_flow, out, jsonl)


@app.command()
def generate(
    prompts: Annotated[Path, typer.Argument(help="prompt file: records with `messages`, `prompt` "
                                                 "or `instruction` (+ `input`)")],
    out: OutOpt,
    backend: Annotated[str, typer.Option(help="transformers | vllm | openai")] = "transformers",
    model: Annotated[str | None, typer.Option(help="model folder, .gguf file or hub id / served "
                                                   "name; default: the embedded model")] = None,
    base_url: Annotated[str | None, typer.Option(help="openai backend: server URL")] = None,
    max_new_tokens: Annotated[int, typer.Option()] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy")] = 0.0,
    top_p: Annotated[float | None, typer.Option()] = None,
    top_k: Annotated[int | None, typer.Option()] = None,
    num_beams: Annotated[int, typer.Option()] = 1,
    n: Annotated[int, typer.Option(help="completions per prompt")] = 1,
    stop: Annotated[list[str] | None, typer.Option(help="stop string (repeatable)")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    field: Annotated[str | None, typer.Option(help="column holding the prompt")] = None,
    cache: Annotated[Path | None, typer.Option(help="on-disk response cache (SQLite file)")] = None,
) -> None:
    """Run a prompt file through a model backend."""
    from pydantic import ValidationError

    from flows.generate import generate_flow
    from pipelines.configbase import format_validation_error
    from pipelines.errors import ConfigError
    from pipelines.models import GenerationParams, ModelConfig

    def build():
        try:
            model_cfg = ModelConfig.model_validate(
                {"backend": backend, "model": model, "cache": cache,
                 **({"openai": {"base_url": base_url}} if base_url else {})})
            params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature,
                                      top_p=top_p, top_k=top_k, num_beams=num_beams, n=n,
                                      stop=stop or [], seed=seed)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, ModelConfig)) from None
        return model_cfg, params

    model_cfg, params = _run(build)
    summary = _run(lambda: generate_flow(str(prompts), model_cfg, params, str(out), field))
    _print_counts([summary], out)


@app.command()
def dedup(spec: DedupSpec, out: OutOpt, jsonl: JsonlOpt = False) -> None:
    """Drop exact and near-duplicate records, and records that match reference sets."""
    from flows.dedup import dedup_flow
    from pipelines.dedup import DedupConfig
    from pipelines.dedup.inputs import dedup_sources

    _stage(spec, "dedup", DedupConfig, dedup_flow, out, jsonl, check=dedup_sources)


@app.command()
def judge(
    spec: JudgeSpec,
    out: OutOpt,
    inputs: Annotated[list[Path] | None, typer.Option(
        "--input", "-i", help="record file or run folder to judge (repeatable); replaces the "
                              "config's `inputs`")] = None,
    jsonl: JsonlOpt = False,
) -> None:
    """Rate instruction records with a judge model and keep those at or above the threshold."""
    from flows.judge import judge_flow

    config = _run(lambda: _judge_config(spec, inputs=inputs, need_inputs=True))
    summary = _run(lambda: judge_flow(config, str(out), jsonl=jsonl))
    _print_counts([summary], out)


@app.command("judge-eval")
def judge_eval(
    file: Annotated[Path, typer.Argument(help="labelled preference file: `prompt`, `chosen`, "
                                              "`rejected` (message lists or strings)")],
    out: OutOpt,
    judge_spec: Annotated[Path | None, typer.Option(
        "--judge", help="judge config (a pipeline config or its `judge` section); default: the "
                        "embedded model")] = None,
    mode: Annotated[str | None, typer.Option(help="parse | logprob")] = None,
    comparison: Annotated[str | None, typer.Option(help="pairwise | rating")] = None,
    aspect: Annotated[str | None, typer.Option(help="accuracy, helpfulness, ...")] = None,
    margin: Annotated[float | None, typer.Option(help="rating comparison: score gap for a win "
                                                      "(default 0.5 in parse mode, 0 in logprob "
                                                      "mode)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the random baseline")] = None,
) -> None:
    """Measure a judge against labelled preferences, with longest-answer and random baselines."""
    from flows.judge import judge_eval_flow
    from pipelines.judge import report_table

    overrides = {"mode": mode, "comparison": comparison, "aspect": aspect, "margin": margin,
                 "seed": seed}
    config = _run(lambda: _judge_config(judge_spec, overrides=overrides))
    _run(lambda: _check_file(file))
    report = _run(lambda: judge_eval_flow(str(file), config, str(out)))
    rows = report_table(report)
    table = Table(title=f"judge evaluation: {report['rows']} labelled pairs")
    for col in rows[0]:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row.values()))
    console.print(table)
    if report["self_preference"]:
        errors.print(f"[yellow]warning:[/] {report['self_preference']}", highlight=False)
    console.print(f"report: {Path(out) / 'judge_eval.json'}")


def _check_file(path: Path) -> None:
    from pipelines.errors import InputError

    if not path.exists():
        raise InputError("no such file or folder", file=path)


def _judge_config(spec: Path | None, *, inputs: list[Path] | None = None,
                  overrides: dict[str, Any] | None = None, need_inputs: bool = False):
    """The judge section of `spec` (defaults without one), with command-line values on top."""
    from pydantic import ValidationError

    from pipelines.config import load_section
    from pipelines.configbase import format_validation_error
    from pipelines.errors import ConfigError
    from pipelines.judge import JudgeConfig

    config = load_section(spec, "judge", JudgeConfig) if spec is not None else JudgeConfig()
    update = {k: v for k, v in (overrides or {}).items() if v is not None}
    if inputs:
        update["inputs"] = inputs
    if update:
        try:
            config = JudgeConfig.model_validate({**config.model_dump(), **update})
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, JudgeConfig, "judge")) from None
    if need_inputs and not config.inputs:
        raise ConfigError(["judge.inputs: nothing to judge; name record files or run folders in "
                           "the config or with --input"], file=spec)
    return config


@app.command()
def preferences(spec: PreferencesSpec, out: OutOpt, jsonl: JsonlOpt = False) -> None:
    """Sample K responses per prompt, score them, and write chosen/rejected pairs (and best-of-n)."""
    from flows.preferences import preferences_flow
    from pipelines.preferences import PreferenceConfig, preference_sources

    _stage(spec, "preferences", PreferenceConfig, preferences_flow, out, jsonl,
           check=preference_sources)


@app.command()
def run(config: ConfigArg, out: OutOpt,
        dated: Annotated[bool, typer.Option(help="a scheduled run's layout: OUT/work, "
                                                 "OUT/<date-time>/, OUT/latest, OUT/dataset "
                                                 "(docs/scheduling.md)")] = False,
        executor: Annotated[str | None, typer.Option(
            help="local | ray: where model stages run (overrides run.executor)")] = None,
        address: Annotated[str | None, typer.Option(
            help="Ray cluster address, e.g. 10.0.0.5:6379 or auto (implies --executor ray)")] = None,
        ) -> None:
    """Run every stage configured in CONFIG."""
    from flows.executor import with_executor
    from flows.pipeline import pipeline_flow
    from pipelines.config import load_config

    # report config problems before starting Prefect
    _run(lambda: with_executor(load_config(config), executor, address))
    summary = _run(lambda: pipeline_flow(str(config), str(out), dated=dated,
                                         executor_name=executor, address=address))
    _print_counts(summary["stages"], out)
    if summary.get("publish"):
        from flows.cli_publish import print_publish

        print_publish(summary["publish"])
    for entry in summary.get("train", []):
        console.print(f"train {entry['name']} ({entry['stage']}): {entry['steps']} steps"
                      f"{' (cached)' if entry['cached'] else ''} -> {entry['model']}",
                      soft_wrap=True)
    folder = Path(summary.get("run_folder") or out)
    console.print(f"summary: {folder / 'summary.json'}")


from flows.cli_publish import publish  # noqa: E402 - its helpers import this module's at call time

app.command()(publish)

from flows.cli_schedule import deploy, serve  # noqa: E402 - they import this module's at call time
from flows.cli_train import handoff, train_app  # noqa: E402 - they import this module's at call time

app.command()(deploy)
app.command()(serve)
app.add_typer(train_app)
app.command()(handoff)


def main() -> None:
    """The console entry point. SIGTERM stops a run as Ctrl-C does; either way the process ends
    at once (the in-flight shard is dropped, finished ones stay cached) instead of waiting for
    a model call in a worker thread, and the temporary Prefect server stops with it."""
    import atexit
    import signal

    from flows.server_guard import guard_server

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    guard_server()
    try:
        app(prog_name="tuneset")
    except SystemExit as exc:
        if exc.code != 130:
            raise
        sys.stderr.flush()
        atexit._run_exitfuncs()  # stops the temporary server; worker threads are not joined
        os._exit(130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
