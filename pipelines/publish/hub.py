"""A Hub dataset repository through `huggingface_hub.HfApi`: its state, its previous version,
and a new version pushed as ONE `create_commit` (every addition and deletion together) followed
by `create_tag`.

Each call is retried with exponential backoff (tenacity) on transient failures: connection
errors, timeouts, HTTP 408/425/429/5xx. Anything else (401, 403, a 412 because the branch moved
under us) fails at once with a clear error. The token comes from `HF_TOKEN` or the
huggingface_hub login (`hf auth login`); it is handed to `HfApi` and never logged or written.
`HF_ENDPOINT` points the client at another Hub (or a local test server).

Deletions: files under the managed paths (data/, plots/, the card, ...) that the new version no
longer has are deleted in the same commit; other files (.gitattributes, a LICENSE someone added)
are left alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pipelines.errors import TunesetError
from pipelines.publish.versions import MANAGED

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class HubError(TunesetError):
    """The Hub refused or kept failing; the message says which call and why (never the token)."""


def hub_token() -> str:
    """The user's Hub token: `HF_TOKEN`, else the huggingface_hub login."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise HubError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login`")
    return token


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a network failure, a timeout, or an HTTP 408/425/429/5xx answer."""
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError):
        response = getattr(exc, "response", None)
        return getattr(response, "status_code", None) in TRANSIENT_STATUS
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "TimeoutException", "ConnectionError", "TimeoutError"})


@dataclass
class HubState:
    exists: bool
    head: str | None = None
    tags: list[dict[str, str]] = field(default_factory=list)


class HubRepo:
    """One dataset repository on the Hub."""

    def __init__(self, repo_id: str, *, token: str, retries: int = 5, backoff: float = 1.0,
                 endpoint: str | None = None) -> None:
        from huggingface_hub import HfApi, constants

        if constants.HF_HUB_OFFLINE:
            raise HubError(f"hf://datasets/{repo_id}: HF_HUB_OFFLINE is set; publishing to the "
                           "Hub needs it unset")
        self.repo_id, self.retries, self.backoff = repo_id, retries, backoff
        self.api = HfApi(endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None, token=token)

    def __str__(self) -> str:
        return f"hf://datasets/{self.repo_id}"

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential,
        )

        retrying = Retrying(stop=stop_after_attempt(self.retries), reraise=False,
                            wait=wait_exponential(multiplier=self.backoff, max=60 * self.backoff),
                            retry=retry_if_exception(is_transient))
        try:
            return retrying(fn, *args, **kwargs)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise HubError(f"{self}: {what} failed after {self.retries} tries; last error: "
                           f"{_short(last)}") from None
        except TunesetError:
            raise
        except Exception as exc:  # noqa: BLE001 - a refusal: report it in the user's terms
            raise HubError(f"{self}: {what} failed: {_short(exc)}") from None

    def state(self) -> HubState:
        """Whether the repository exists, its main commit and its tags."""
        from huggingface_hub.errors import RepositoryNotFoundError

        def read() -> HubState:
            try:
                refs = self.api.list_repo_refs(self.repo_id, repo_type="dataset")
            except RepositoryNotFoundError:
                return HubState(exists=False)
            main = next((b.target_commit for b in refs.branches if b.name == "main"), None)
            return HubState(True, main, [{"name": t.name, "commit": t.target_commit}
                                         for t in refs.tags])

        return self._call("reading the repository's refs", read)

    def download(self, revision: str, dest: Path, *, everything: bool = False) -> None:
        """versions.json and data/ (or every file) of `revision` into `dest`."""
        files = self._call("listing files", self.api.list_repo_files, self.repo_id,
                           repo_type="dataset", revision=revision)
        for name in files:
            if everything or name == "versions.json" or name.startswith("data/"):
                self._call(f"downloading {name}", self.api.hf_hub_download, self.repo_id, name,
                           repo_type="dataset", revision=revision, local_dir=dest)
        shutil.rmtree(dest / ".cache", ignore_errors=True)  # huggingface_hub's download metadata

    def push(self, tree: Path, *, message: str, description: str, private: bool,
             create_pr: bool, parent: str | None) -> tuple[str, str | None]:
        """Create the repository if needed and commit `tree` in one commit; (commit, PR url)."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        if parent is None:
            self._call("creating the repository", self.api.create_repo, self.repo_id,
                       repo_type="dataset", private=private, exist_ok=True)
            parent = self.state().head  # the Hub's initial commit (.gitattributes)
        files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
        remote = self._call("listing files", self.api.list_repo_files, self.repo_id,
                            repo_type="dataset", revision=parent) if parent else []
        stale = [f for f in remote if f not in files and f.split("/")[0] in MANAGED]

        def commit():
            operations = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(tree / f))
                          for f in files] + [CommitOperationDelete(path_in_repo=f) for f in stale]
            return self.api.create_commit(self.repo_id, operations, commit_message=message,
                                          commit_description=description, repo_type="dataset",
                                          create_pr=create_pr, parent_commit=parent)

        info = self._call("committing", commit)
        return info.oid, info.pr_url

    def tag(self, tag: str, commit: str, message: str) -> None:
        self._call(f"tagging {tag}", self.api.create_tag, self.repo_id, tag=tag,
                   tag_message=message, revision=commit, repo_type="dataset")

    def read_file(self, revision: str, name: str, dest: Path) -> Path | None:
        """One file of `revision`, or None when the repository has no such file."""
        from huggingface_hub.errors import EntryNotFoundError

        def fetch():
            try:
                return Path(self.api.hf_hub_download(self.repo_id, name, repo_type="dataset",
                                                     revision=revision, local_dir=dest))
            except EntryNotFoundError:
                return None

        return self._call(f"downloading {name}", fetch)


def _short(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else "unknown error"
    return text if len(text) <= 400 else text[:397] + "..."
