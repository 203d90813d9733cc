"""A local dataset repository: a git repository (the `git` command line), one commit and one
annotated tag per version.

A new version is committed without touching the working tree or any ref until it is complete:

    1. a temporary index starts from HEAD's tree; the paths publishing manages (README.md,
       pipeline.yaml, lineage.json, versions.json, data/, plots/) are dropped from it and the
       new files added (`git add` with the build folder as work tree), so files someone else
       keeps in the repository (LICENSE, .gitattributes) stay;
    2. `git write-tree` + `git commit-tree` make the commit object;
    3. `advance` moves the branch (compare-and-swap: it fails if the branch moved meanwhile),
       adds the tag and checks the new tree out.

A failure before step 3 leaves the repository as it was (an unreferenced object at most).
A repository is created (`git init`) when the folder is missing or empty; commits need a
committer, so `user.name` / `user.email` are set in the repository when git has none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from pipelines.errors import InputError, TunesetError

MANAGED = ("README.md", "pipeline.yaml", "lineage.json", "versions.json", "data", "plots")
ZERO = "0" * 40


class GitError(TunesetError):
    """A git command failed; the message names the repository, the command and git's words."""


class GitRepo:
    """The git command line on one repository folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def git(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            binary: bool = False) -> subprocess.CompletedProcess:
        try:
            done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True,
                                  text=not binary, env={**os.environ, **(env or {})}, timeout=600)
        except FileNotFoundError:
            raise GitError("the `git` command is not installed; publishing to a folder needs it") \
                from None
        if check and done.returncode != 0:
            stderr = done.stderr if isinstance(done.stderr, str) else done.stderr.decode(errors="replace")
            raise GitError(f"{self.path}: git {' '.join(args[:2])} failed: {stderr.strip()}")
        return done

    def out(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self.git(*args, env=env).stdout.strip()

    def is_repo(self) -> bool:
        """True when the folder is itself the top of a git repository (not inside another)."""
        if not (self.path / ".git").exists():
            return False
        done = self.git("rev-parse", "--show-toplevel", check=False)
        return done.returncode == 0 and Path(done.stdout.strip()).resolve() == self.path.resolve()

    def check_usable(self) -> None:
        """InputError when the folder exists, is not empty and is not a git repository."""
        if self.path.exists() and not self.path.is_dir():
            raise InputError("the target is a file; expected a folder (a git repository)",
                             file=self.path)
        if self.path.is_dir() and any(self.path.iterdir()) and not self.is_repo():
            raise InputError("the target folder is not empty and not a git repository; publish "
                             "into a new folder or an existing dataset repository", file=self.path)

    def init(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def ensure_identity(self) -> None:
        """Set a committer in this repository when git has none configured."""
        for key, value in (("user.name", "tuneset"), ("user.email", "tuneset@localhost")):
            if self.git("config", key, check=False).stdout.strip() == "":
                self.git("config", key, value)

    def head(self) -> str | None:
        done = self.git("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
        return done.stdout.strip() if done.returncode == 0 else None

    def branch_ref(self) -> str:
        done = self.git("symbolic-ref", "-q", "HEAD", check=False)
        if done.returncode != 0:
            raise InputError("HEAD is detached; check out a branch before publishing",
                             file=self.path)
        return done.stdout.strip()

    def dirty_files(self) -> list[str]:
        """Files with uncommitted changes (untracked ones included)."""
        entries = iter(self.git("status", "--porcelain=v1", "-z", "--untracked-files=all")
                       .stdout.split("\0"))
        found = set()
        for entry in entries:
            if len(entry) > 3:
                found.add(entry[3:])
                if entry[0] in "RC":
                    next(entries, None)  # the entry after a rename is its old name
        return sorted(found)

    def tags(self) -> list[dict[str, str]]:
        """Tags, oldest first: name, commit, date, subject."""
        fmt = "%(refname:short)%09%(*objectname)%(objectname)%09%(creatordate:iso-strict)%09%(subject)"
        lines = self.out("for-each-ref", "--sort=creatordate", f"--format={fmt}", "refs/tags")
        found = []
        for line in filter(None, lines.splitlines()):
            name, objects, date, subject = (line.split("\t") + ["", "", ""])[:4]
            found.append({"name": name, "commit": objects[:40], "date": date, "subject": subject})
        return found

    def export_head(self, dest: Path,
                    paths: tuple[str, ...] | None = ("versions.json", "data")) -> bool:
        """Extract `paths` (None: everything) of HEAD's tree into `dest`; False without HEAD."""
        if self.head() is None:
            return False
        present = self.out("ls-tree", "--name-only", "HEAD").splitlines()
        wanted = present if paths is None else [p for p in paths if p in present]
        if not wanted:
            return True
        archive = self.git("archive", "--format=tar", "HEAD", "--", *wanted, binary=True).stdout
        with tempfile.TemporaryFile() as fh:
            fh.write(archive)
            fh.seek(0)
            with tarfile.open(fileobj=fh) as tar:
                tar.extractall(dest, filter="data")
        return True

    def commit_tree(self, tree: Path, message: str) -> tuple[str, bool]:
        """Make a commit of HEAD's tree with the managed paths replaced by the files in `tree`;
        (commit sha, whether its tree differs from HEAD's). No ref moves."""
        head = self.head()
        with tempfile.TemporaryDirectory(prefix="tuneset-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if head is not None:
                self.git("read-tree", head, env=env)
                self.git("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *MANAGED, env=env)
            files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
            for start in range(0, len(files), 500):
                self.git(f"--work-tree={tree}", "add", "-f", "--", *files[start:start + 500],
                         env=env)
            new_tree = self.out("write-tree", env=env)
        if head is not None and new_tree == self.out("rev-parse", f"{head}^{{tree}}"):
            return head, False
        parents = ["-p", head] if head is not None else []
        return self.out("commit-tree", new_tree, *parents, "-m", message), True

    def advance(self, commit: str, old: str | None, tag: str, message: str) -> None:
        """Move the branch from `old` to `commit`, tag it, and check the new tree out."""
        self.git("update-ref", "-m", f"tuneset publish {tag}", self.branch_ref(), commit,
                 old or ZERO)
        self.git("tag", "-a", tag, "-m", message, commit)
        self.git("reset", "-q", "--hard", commit)


def remove_created(path: Path, created: bool) -> None:
    """Undo creating a target folder (after a failure)."""
    if created and path.exists():
        shutil.rmtree(path, ignore_errors=True)
