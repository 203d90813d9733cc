"""Publishing to the Hub, against a local HTTP server implementing the Hub's endpoints."""

import base64
import json
import logging
import subprocess

import pytest

from pipelines.publish import PublishConfig, list_versions, parse_target, publish_run
from pipelines.publish.hub import HubError

from .fake_hub import serving
from .helpers import make_run

TOKEN = "hf_publishTestToken0123456789abcdef"
TARGET = "hf://datasets/org/tiny"
CONFIG = PublishConfig(license="apache-2.0", test_fraction=0.25, retries=3)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with serving(monkeypatch, tmp_path, TOKEN) as server:
        yield server


def publish(run, *targets, config=CONFIG, **options):
    return publish_run(run, config, targets=[parse_target(t) for t in targets], backoff=0.01,
                       **options)


def commit_lines(request):
    return [json.loads(line) for line in request["body"].splitlines() if line.strip()]


def test_one_commit_with_every_file_then_the_tag(hub, tmp_path):
    run = make_run(tmp_path / "run")
    report = publish(run, TARGET)
    assert report["new_version"] and report["targets"][0]["status"] == "published"
    (commit,) = hub.calls("POST", r"^/api/datasets/org/tiny/commit/main$")
    lines = commit_lines(commit)
    repo = hub.repos["org/tiny"]
    initial = next(iter(repo.commits))
    assert lines[0]["key"] == "header" and lines[0]["value"]["parentCommit"] == initial
    assert lines[0]["value"]["summary"].startswith("tiny v1: best_of_n +9 -0")
    regular = {line["value"]["path"] for line in lines if line["key"] == "file"}
    lfs = {line["value"]["path"] for line in lines if line["key"] == "lfsFile"}
    assert regular == {"README.md", "pipeline.yaml", "lineage.json", "versions.json"}
    assert "data/sft/train-00000-of-00001.parquet" in lfs and "plots/score_margin.png" in lfs
    assert len(hub.calls("PUT", r"^/lfs-storage/")) == len(lfs)  # LFS batch API, then uploads
    (tag,) = hub.calls("POST", r"^/api/datasets/org/tiny/tag/")
    assert json.loads(tag["body"])["tag"] == "v1"
    assert tag["path"].endswith(report["targets"][0]["commit"])
    assert repo.tags == {"v1": repo.main} and not repo.private
    readme = next(line for line in lines if line["value"].get("path") == "README.md")
    assert base64.b64decode(readme["value"]["content"]) == repo.commits[repo.main]["README.md"]
    assert hub.calls("POST", "/api/validate-yaml")


def test_second_publish_is_unchanged_and_commits_nothing(hub, tmp_path):
    run = make_run(tmp_path / "run")
    publish(run, TARGET)
    report = publish(run, TARGET)
    assert not report["new_version"] and report["targets"][0]["status"] == "unchanged"
    assert len(hub.calls("POST", "/commit/")) == 1 and len(hub.calls("POST", "/tag/")) == 1


def test_v2_diffs_against_the_hub_and_deletes_stale_files_in_the_same_commit(hub, tmp_path):
    publish(make_run(tmp_path / "run"), TARGET)
    no_rejected = PublishConfig(license="apache-2.0", test_fraction=0.25, rejected=False)
    report = publish(make_run(tmp_path / "run2", n=16), TARGET, config=no_rejected)
    assert report["version"] == "v2"
    assert report["targets"][0]["diff"]["sft"] == {"added": 3, "removed": 0}
    assert report["targets"][0]["diff"]["rejected"] == {"added": 0, "removed": 6}
    second = hub.calls("POST", "/commit/")[1]
    deleted = {line["value"]["path"] for line in commit_lines(second) if line["key"] == "deletedFile"}
    assert deleted == {"data/rejected/train-00000-of-00001.parquet"}
    assert hub.repos["org/tiny"].tags.keys() == {"v1", "v2"}
    assert [v["version"] for v in list_versions(parse_target(TARGET))] == ["v1", "v2"]


def test_transient_errors_are_retried(hub, tmp_path):
    hub.fail("POST", r"/commit/main$", 503)
    hub.fail("POST", r"/tag/", 502)
    report = publish(make_run(tmp_path / "run"), TARGET)
    assert report["targets"][0]["status"] == "published"
    assert len(hub.calls("POST", "/commit/")) == 2 and len(hub.repos["org/tiny"].commits) == 2
    assert hub.repos["org/tiny"].tags == {"v1": hub.repos["org/tiny"].main}


def test_a_hub_failure_leaves_the_local_repository_as_it_was(hub, tmp_path):
    local = tmp_path / "dataset"
    run = make_run(tmp_path / "run")
    publish(run, str(local))
    head = subprocess.run(["git", "-C", str(local), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout
    hub.fail("POST", r"/commit/main$", 500, times=10)
    with pytest.raises(HubError, match=r"hf://datasets/org/tiny: committing failed after 3 tries"):
        publish(make_run(tmp_path / "run2", n=16), str(local), TARGET)
    assert subprocess.run(["git", "-C", str(local), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout == head
    assert subprocess.run(["git", "-C", str(local), "tag"], capture_output=True,
                          text=True).stdout.split() == ["v1"]
    with pytest.raises(HubError):
        publish(run, str(tmp_path / "new"), TARGET)
    assert not (tmp_path / "new").exists()


def test_local_and_hub_get_the_same_tree(hub, tmp_path):
    local = tmp_path / "dataset"
    report = publish(make_run(tmp_path / "run"), str(local), TARGET)
    assert [r["status"] for r in report["targets"]] == ["published", "published"]
    remote = hub.repos["org/tiny"]
    files = {p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*")
             if p.is_file() and ".git" not in p.relative_to(local).parts}
    assert {k: v for k, v in remote.commits[remote.main].items() if k != ".gitattributes"} == files


def test_private_repositories_and_pull_requests(hub, tmp_path):
    config = PublishConfig(license="apache-2.0", private=True, create_pr=True)
    report = publish(make_run(tmp_path / "run"), TARGET, config=config)
    (create,) = hub.calls("POST", "/api/repos/create")
    assert json.loads(create["body"])["visibility"] == "private"
    assert hub.calls("POST", "/commit/")[0]["query"] == {"create_pr": ["1"]}
    assert report["targets"][0]["pr_url"].endswith("/discussions/1")


def test_the_token_is_sent_but_never_written_or_logged(hub, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    run = make_run(tmp_path / "run")
    publish(run, str(tmp_path / "dataset"), TARGET)
    publish(make_run(tmp_path / "run2", n=16), str(tmp_path / "dataset"), TARGET)
    assert {r["auth"] for r in hub.requests if r["path"].startswith("/api/datasets")} == \
        {f"Bearer {TOKEN}"}
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err + caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    for files in hub.repos["org/tiny"].commits.values():
        assert all(TOKEN.encode() not in data for data in files.values())


def test_no_token_is_a_clear_error(hub, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="no Hugging Face token: set HF_TOKEN"):
        publish(make_run(tmp_path / "run"), TARGET)


def test_a_hub_target_added_later_gets_the_local_version(hub, tmp_path):
    local, run = tmp_path / "dataset", make_run(tmp_path / "run")
    publish(run, str(local))
    report = publish(run, str(local), TARGET)
    assert [r["status"] for r in report["targets"]] == ["unchanged", "published"]
    remote = hub.repos["org/tiny"]
    assert remote.tags.keys() == {"v1"}
    assert remote.commits[remote.main]["versions.json"] == (local / "versions.json").read_bytes()
