"""Every `tuneset ...` command that README.md and docs/*.md show names a real command and real
options; the ones cheap enough run for real on the demo's output (scripted models), the rest are
checked against their command's `--help`."""

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from flows.cli import app

from .demo_run import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`(tuneset [^`]+)`")
runner = CliRunner()
EXAMPLES = {"answer-length"}
"""Commands the docs name as what a reader would add (docs/architecture.md, adding a stage)."""


@dataclass(frozen=True)
class Shown:
    where: str          # file:line
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: tuneset {' '.join(self.argv)}"


def _fenced_lines(path: Path):
    text = path.read_text(encoding="utf-8")
    for block in FENCE.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        held, start = "", None
        for offset, line in enumerate(block.group(1).splitlines()):
            if line.rstrip().endswith("\\"):   # a shell line continued on the next one
                held, start = held + line.rstrip()[:-1] + " ", first + offset if start is None else start
                continue
            yield (first + offset if start is None else start), held + line
            held, start = "", None


def fenced_commands() -> list[Shown]:
    """`tuneset ...` lines inside fenced blocks (a trailing `# comment` dropped)."""
    found = []
    for path in DOCS:
        for number, line in _fenced_lines(path):
            if line.lstrip().startswith("tuneset "):
                words = shlex.split(line, comments=True)
                found.append(Shown(f"{path.relative_to(REPO)}:{number}", tuple(words[1:])))
    return found


def inline_commands() -> list[Shown]:
    """`tuneset ...` in backticks in the prose and tables; `a|b` (or `a\\|b`) alternatives are
    expanded into one command each."""
    found = []
    for path in DOCS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for text in INLINE.findall(line):
                words = text.replace("\\|", "|").split()[1:]
                head = words[0].split("|") if words else [""]
                for name in head:
                    rest = words[1:]
                    subs = rest[0].split("|") if rest and "|" in rest[0] else [None]
                    for sub in subs:
                        argv = [name, *([sub, *rest[1:]] if sub else rest)]
                        argv = [w for w in argv if w not in ("...", "[", "]")]
                        found.append(Shown(f"{path.relative_to(REPO)}:{number}", tuple(argv)))
    return found


def _is_group(command) -> bool:
    return hasattr(command, "list_commands")


def resolve(argv: tuple[str, ...]):
    """The click command `argv` names, the words before it, and the words after it."""
    command = typer.main.get_command(app)
    path: list[str] = []
    rest = list(argv)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        if re.fullmatch(r"<\w+>", rest[0]):  # a placeholder: any sub-command will do
            rest[0] = sorted(command.commands)[0]
        sub = command.commands.get(rest[0])
        assert sub is not None, f"no command {' '.join([*path, rest[0]])!r}"
        command, path, rest = sub, [*path, rest[0]], rest[1:]
    return command, path, rest


def check_options(shown: Shown) -> None:
    command, path, rest = resolve(shown.argv)
    assert not _is_group(command), f"{shown}: names a group, not a command"
    known = {opt for p in command.params for opt in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    for word in rest:
        if word.startswith("-"):
            option = word.split("=", 1)[0].strip("[]")
            assert option in known, f"{shown}: {option} is not an option of tuneset {' '.join(path)}"


@pytest.mark.parametrize("shown", [s for s in fenced_commands() + inline_commands()
                                   if s.argv[0] not in EXAMPLES], ids=str)
def test_documented_command_and_options_exist(shown):
    check_options(shown)
    _, path, _ = resolve(shown.argv)
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("argv, message", [
    (("train", "sft", "c.yaml", "--steps", "3"), "--steps is not an option of tuneset train sft"),
    (("templates", "spec.yaml"), "no command 'templates'"),
    (("train", "c.yaml"), "no command 'train c.yaml'"),
], ids=["option", "command", "sub-command"])
def test_a_wrong_command_or_option_is_caught(argv, message):
    with pytest.raises(AssertionError, match=message):
        check_options(Shown("doc.md:1", argv))


def test_the_docs_show_commands():
    shown = {s.argv[0] for s in fenced_commands()}
    assert {"publish", "train"} <= shown
    assert any(s.where.startswith("README.md") and s.argv[:1] == ("train",)
               for s in fenced_commands())


def _documented_datasets() -> list[tuple[str, str]]:
    """(file:line, path) of every `dataset:` a fenced block shows under ../runs/demo, with the
    alternatives its comment names."""
    found = []
    for path in DOCS:
        for number, line in _fenced_lines(path):
            if line.startswith("dataset: ../runs/demo"):
                paths = re.findall(r"\.\./runs/demo[\w/.-]*", line)
                found += [(f"{path.relative_to(REPO)}:{number}", p.rstrip(",.")) for p in paths]
    return found


@pytest.fixture
def demo_tree(demo_checkout):
    assert demo_checkout.result.exit_code == 0, demo_checkout.result.output
    return demo_checkout.root


def test_documented_training_inputs_load_from_the_demo_output(demo_tree):
    """The `dataset:` forms the README and docs show are the ones the loader takes."""
    from alignment.data import load_any
    from alignment.run import load_train_config, validate_data

    shown = _documented_datasets()
    assert any(where.startswith("README.md") for where, _ in shown)
    for where, path in shown:
        data = load_any(demo_tree / "configs" / path)
        assert len(data.dataset) > 0, where
    for stage, config in (("sft", "train_sft.yaml"), ("dpo", "train_dpo.yaml")):
        body = yaml.safe_load((demo_tree / "configs" / config).read_text())
        body["dataset"] = "../runs/demo/judge" if stage == "sft" else "../runs/demo/preferences"
        edited = demo_tree / "configs" / f"readme_{config}"
        edited.write_text(yaml.safe_dump(body))
        assert len(validate_data(load_train_config(edited, stage)).dataset) > 0


def test_documented_publish_commands_run_on_the_demo_output(demo_tree, monkeypatch):
    """The local publishing commands of the docs, as shown, run in a checkout with the demo's
    output (Hub targets need the Hub: those are checked against --help above)."""
    monkeypatch.chdir(demo_tree)
    ran = 0
    for shown in fenced_commands():
        if shown.argv[0] != "publish" or any(w.startswith("hf://") for w in shown.argv):
            continue
        result = runner.invoke(app, list(shown.argv))
        assert result.exit_code == 0, f"{shown}\n{result.output}"
        ran += 1
    assert ran >= 2
