"""A local stand-in for the Hugging Face Hub's HTTP API (the real Hub is unreachable in tests).

It implements the endpoints `huggingface_hub.HfApi` calls when publishing a dataset, keeps the
repositories' commits, files and tags in memory, and records every request:

    POST /api/repos/create                                  create_repo
    GET  /api/datasets/{repo}/refs                          list_repo_refs
    GET  /api/datasets/{repo}/tree/{rev}[/{path}]           list_repo_files
    POST /api/validate-yaml                                 the card check in create_commit
    POST /api/datasets/{repo}/preupload/{rev}               upload mode per file (regular | lfs)
    POST /datasets/{repo}.git/info/lfs/objects/batch        LFS batch API (basic transfer)
    PUT  /lfs-storage/{oid}                                 the LFS upload itself (sha256 checked)
    POST /lfs-verify/{oid}                                  LFS verify
    POST /api/datasets/{repo}/commit/{rev}                  create_commit (ndjson operations)
    POST /api/datasets/{repo}/tag/{rev}                     create_tag
    HEAD|GET /datasets/{repo}/resolve/{rev}/{path}          hf_hub_download

Parquet and PNG files are "lfs" (as the Hub's .gitattributes makes them), the rest "regular".
huggingface_hub uploads LFS files through Xet storage when `hf_xet` is installed; the tests turn
that off (`constants.HF_HUB_DISABLE_XET`) because the Xet CAS protocol is not implemented here.
`fail(method, pattern, status, times)` makes matching requests answer `status` first.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from huggingface_hub import DatasetCard

LFS_SUFFIXES = (".parquet", ".png")
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    main: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    prs: list[str] = field(default_factory=list)

    def files(self, rev: str) -> dict[str, bytes] | None:
        rev = unquote(rev)
        if rev == "main":
            rev = self.main
        elif rev in self.tags:
            rev = self.tags[rev]
        elif rev.startswith("refs/pr/") and rev[8:].isdigit() and int(rev[8:]) <= len(self.prs):
            rev = self.prs[int(rev[8:]) - 1]
        return self.commits.get(rev)

    def resolve(self, rev: str) -> str | None:
        files = self.files(rev)
        return next((sha for sha, f in self.commits.items() if f is files), None)


class FakeHub:
    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.faults: list[list] = []
        self.lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.handle(self, "GET")

            def do_HEAD(self):
                hub.handle(self, "HEAD")

            def do_POST(self):
                hub.handle(self, "POST")

            def do_PUT(self):
                hub.handle(self, "PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, method: str, pattern: str, status: int, times: int = 1) -> None:
        self.faults.append([method, re.compile(pattern), status, times])

    def calls(self, method: str, pattern: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and re.search(pattern, r["path"])]

    # -- plumbing ---------------------------------------------------------------------------

    def _body(self, request: BaseHTTPRequestHandler) -> bytes:
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(request.rfile.readline().strip(), 16)
                if size == 0:
                    request.rfile.readline()
                    return data
                data += request.rfile.read(size)
                request.rfile.readline()
        return request.rfile.read(int(request.headers.get("Content-Length") or 0))

    def _send(self, request, status: int, payload=b"", headers=(), method="GET") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json" if not isinstance(payload, bytes)
                            else "application/octet-stream")
        request.send_header("Content-Length", str(len(data)))
        for key, value in headers:
            request.send_header(key, value)
        request.end_headers()
        if method != "HEAD":
            request.wfile.write(data)

    def handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)
        body = self._body(request) if method in ("POST", "PUT") else b""
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query, "body": body,
                                  "auth": request.headers.get("Authorization")})
            for fault in self.faults:
                if fault[3] > 0 and fault[0] == method and fault[1].search(path):
                    fault[3] -= 1
                    return self._send(request, fault[2], {"error": f"injected {fault[2]}"},
                                      method=method)
            if not path.startswith(("/lfs-storage/", "/api/validate-yaml")) and \
                    request.headers.get("Authorization") != f"Bearer {self.token}":
                return self._send(request, 401, {"error": "Invalid credentials"}, method=method)
            status, payload, headers = self.route(method, path, query, body)
        self._send(request, status, payload, headers, method)

    def route(self, method, path, query, body):
        if method == "POST" and path == "/api/repos/create":
            return self.create_repo(json.loads(body))
        if method == "POST" and path == "/api/validate-yaml":
            return self.validate_yaml(json.loads(body))
        if method == "PUT" and path.startswith("/lfs-storage/"):
            oid = path.rsplit("/", 1)[1]
            if hashlib.sha256(body).hexdigest() != oid:
                return 400, {"error": "sha256 mismatch"}, ()
            self.lfs[oid] = body
            return 200, b"", ()
        if method == "POST" and path.startswith("/lfs-verify/"):
            oid = json.loads(body)["oid"]
            return (200, {"ok": True}, ()) if oid in self.lfs else (404, {"error": "missing"}, ())
        match = re.match(r"^/datasets/([^/]+/[^/]+)\.git/info/lfs/objects/batch$", path)
        if match and method == "POST":
            return self.lfs_batch(json.loads(body))
        match = re.match(r"^/datasets/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        if match and method in ("GET", "HEAD"):
            return self.resolve(match.group(1), match.group(2), unquote(match.group(3)))
        match = re.match(r"^/api/datasets/([^/]+/[^/]+)/(refs|tree|preupload|commit|tag)(/.*)?$", path)
        if not match:
            return 404, {"error": f"no route {method} {path}"}, ()
        repo = self.repos.get(match.group(1))
        if repo is None:
            return 404, {"error": "Repository not found"}, (("X-Error-Code", "RepoNotFound"),)
        action, rest = match.group(2), (match.group(3) or "").lstrip("/")
        if action == "refs":
            return 200, {"branches": [{"name": "main", "ref": "refs/heads/main",
                                       "targetCommit": repo.main}],
                         "converts": [], "tags": [{"name": n, "ref": f"refs/tags/{n}",
                                                   "targetCommit": c} for n, c in repo.tags.items()]}, ()
        rev, _, sub = rest.partition("/")
        if action == "tree":
            files = repo.files(rev)
            if files is None:
                return 404, {"error": "Invalid rev id"}, (("X-Error-Code", "RevisionNotFound"),)
            return 200, [self.entry(p, d) for p, d in sorted(files.items())
                         if p.startswith(unquote(sub))], ()
        if action == "preupload":
            files = repo.files(rev) or {}
            return 200, {"files": [self.upload_mode(f, files) for f in json.loads(body)["files"]]}, ()
        if action == "commit":
            return self.commit(repo, rev, body, query)
        return self.tag(repo, rev, json.loads(body))

    # -- endpoints --------------------------------------------------------------------------

    def create_repo(self, payload):
        repo_id = f"{payload['organization']}/{payload['name']}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": repo_id}, ()
        repo = Repo(repo_id, private=payload.get("visibility") == "private" or
                    bool(payload.get("private")))
        repo.main = self.snapshot(repo, {".gitattributes": GITATTRIBUTES})
        self.repos[repo_id] = repo
        return 200, {"url": f"{self.url}/datasets/{repo_id}", "name": repo_id}, ()

    def validate_yaml(self, payload):
        try:
            data = DatasetCard(payload["content"]).data.to_dict()
        except ValueError as exc:
            return 400, {"errors": [{"message": str(exc)}]}, ()
        errors = [{"message": f"{key} is required"} for key in ("license", "configs")
                  if key not in data]
        return (400 if errors else 200), {"errors": errors, "warnings": []}, ()

    @staticmethod
    def entry(path: str, data: bytes) -> dict:
        found = {"type": "file", "oid": git_sha1(data), "size": len(data), "path": path}
        if path.endswith(LFS_SUFFIXES):
            found["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                            "pointerSize": 130}
        return found

    @staticmethod
    def upload_mode(item: dict, files: dict[str, bytes]) -> dict:
        lfs = item["path"].endswith(LFS_SUFFIXES)
        old = files.get(item["path"])
        oid = None if old is None else (hashlib.sha256(old).hexdigest() if lfs else git_sha1(old))
        return {"path": item["path"], "uploadMode": "lfs" if lfs else "regular",
                "shouldIgnore": False, "oid": oid}

    def lfs_batch(self, payload):
        objects = []
        for obj in payload["objects"]:
            if obj["oid"] in self.lfs:
                objects.append({"oid": obj["oid"], "size": obj["size"]})
            else:
                objects.append({"oid": obj["oid"], "size": obj["size"], "authenticated": True,
                                "actions": {"upload": {"href": f"{self.url}/lfs-storage/{obj['oid']}"},
                                            "verify": {"href": f"{self.url}/lfs-verify/{obj['oid']}"}}})
        return 200, {"transfer": "basic", "objects": objects}, ()

    def snapshot(self, repo: Repo, files: dict[str, bytes]) -> str:
        sha = hashlib.sha1(json.dumps({"n": len(repo.commits), "files": sorted(
            (p, git_sha1(d)) for p, d in files.items())}).encode()).hexdigest()
        repo.commits[sha] = files
        return sha

    def commit(self, repo: Repo, rev: str, body: bytes, query):
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]["value"]
        base = repo.files(rev)
        if base is None:
            return 404, {"error": "Invalid rev id"}, (("X-Error-Code", "RevisionNotFound"),)
        if header.get("parentCommit") and header["parentCommit"] != repo.resolve(rev):
            return 412, {"error": "A commit has happened since. Please refresh and try again."}, ()
        files = dict(base)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "lfsFile":
                if value["oid"] not in self.lfs:
                    return 422, {"error": f"LFS object {value['oid']} was never uploaded"}, ()
                files[value["path"]] = self.lfs[value["oid"]]
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: d for p, d in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        sha = self.snapshot(repo, files)
        url = f"{self.url}/datasets/{repo.repo_id}/commit/{sha}"
        if query.get("create_pr") == ["1"]:
            repo.prs.append(sha)
            return 200, {"commitUrl": url, "commitOid": sha, "pullRequestUrl":
                         f"{self.url}/datasets/{repo.repo_id}/discussions/{len(repo.prs)}"}, ()
        repo.main = sha
        return 200, {"commitUrl": url, "commitOid": sha, "success": True}, ()

    def tag(self, repo: Repo, rev: str, payload):
        sha = repo.resolve(rev)
        if sha is None:
            return 404, {"error": "Invalid rev id"}, (("X-Error-Code", "RevisionNotFound"),)
        if payload["tag"] in repo.tags:
            return 409, {"error": f"Tag {payload['tag']} already exists"}, ()
        repo.tags[payload["tag"]] = sha
        return 200, {}, ()

    def resolve(self, repo_id: str, rev: str, name: str):
        repo = self.repos.get(repo_id)
        if repo is None:
            return 404, {"error": "Repository not found"}, (("X-Error-Code", "RepoNotFound"),)
        files = repo.files(rev)
        if files is None:
            return 404, {"error": "Invalid rev id"}, (("X-Error-Code", "RevisionNotFound"),)
        if name not in files:
            return 404, {"error": "Entry not found"}, (("X-Error-Code", "EntryNotFound"),)
        data = files[name]
        return 200, data, (("X-Repo-Commit", repo.resolve(rev)), ("ETag", f'"{git_sha1(data)}"'))


@contextlib.contextmanager
def serving(monkeypatch, tmp_path, token: str):
    """A FakeHub with huggingface_hub pointed at it: online (tests/conftest.py sets
    HF_HUB_OFFLINE=1 for everything else), LFS uploads without Xet, `token` in HF_TOKEN."""
    from huggingface_hub import constants

    with FakeHub(token) as server:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_TOKEN", token)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        yield server
