"""Publishing to a local dataset repository (real git, real `datasets.load_dataset`)."""

import json
import subprocess

import datasets
import pytest
import yaml
from huggingface_hub import DatasetCard

from pipelines.errors import ConfigError, InputError
from pipelines.publish import PublishConfig, list_versions, parse_target, publish_run
from pipelines.publish.card import validate_card
from pipelines.publish.config import load_publish_config
from pipelines.publish.layout import split_of

from .helpers import make_run, rows

CONFIG = PublishConfig(license="apache-2.0", test_fraction=0.25)


def publish(run, repo, config=CONFIG, **options):
    return publish_run(run, config, targets=[parse_target(repo)], **options)


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def load(repo, config, split, tmp_path):
    return datasets.load_dataset(str(repo), config, split=split,
                                 cache_dir=str(tmp_path / "hf-cache")).to_list()


@pytest.fixture
def published(tmp_path):
    run = make_run(tmp_path / "run")
    report = publish(run, tmp_path / "dataset")
    return run, tmp_path / "dataset", report


def test_sft_round_trips_through_load_dataset(published, tmp_path):
    run, repo, report = published
    assert report["new_version"] and report["targets"][0]["status"] == "published"
    kept = rows(run / "judge")
    for split in ("train", "test"):
        expected = [r for r in kept if split_of(r["id"], 0.25) == split]
        assert load(repo, "sft", split, tmp_path) == expected


def test_preferences_round_trip_and_pass_trl_format_checks(published, tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    run, repo, _ = published
    loaded = load(repo, "preferences", "train", tmp_path) + load(repo, "preferences", "test", tmp_path)
    assert sorted(loaded, key=lambda r: r["id"]) == sorted(rows(run / "preferences"),
                                                           key=lambda r: r["id"])
    words = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, unk_token="[UNK]")
    tokenizer.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n"
                               "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
    for row in loaded:
        example = {k: row[k] for k in ("prompt", "chosen", "rejected")}
        assert is_conversational(example)
        text = maybe_apply_chat_template(example, tokenizer)
        assert text["prompt"].endswith("<|assistant|>") and row["chosen"][0]["content"] in text["chosen"]


def test_the_card_validates_and_describes_the_run(published):
    _, repo, _ = published
    text = (repo / "README.md").read_text()
    assert validate_card(text, repo) == []
    data = DatasetCard.load(repo / "README.md").data.to_dict()
    assert data["license"] == "apache-2.0" and data["size_categories"] == ["n<1K"]
    assert data["tags"][:4] == ["synthetic", "instruction-tuning", "preference", "tuneset"]
    assert [c["config_name"] for c in data["configs"]] == ["sft", "preferences", "best_of_n",
                                                           "rejected"]
    for needle in ("| judge | 12 | 9 | 3 | judge_below_threshold: 3 | 12.0 |",
                   "Self-preference (judge)", "The judge was not evaluated",
                   "AlpaGasus", "UltraFeedback", "FLAN", "TRL", "plots/judge-score_histogram.png",
                   "plots/chosen_vs_rejected_length.png", "plots/score_margin.png",
                   f'load_dataset("{repo}", "sft", split="train")',
                   f"git -C {repo} show v1:pipeline.yaml", "| v1 |"):
        assert needle in text, needle
    for plot in ("judge-score_histogram", "instruction_length", "response_length",
                 "chosen_vs_rejected_length", "score_margin"):
        assert (repo / "plots" / f"{plot}.png").stat().st_size > 1000


def test_one_commit_and_one_tag_per_version_with_lineage(published):
    run, repo, report = published
    assert git(repo, "rev-list", "--count", "HEAD") == "1" and git(repo, "tag") == "v1"
    assert git(repo, "rev-parse", "v1^{commit}") == report["targets"][0]["commit"]
    assert git(repo, "status", "--porcelain") == ""
    lineage = json.loads((repo / "lineage.json").read_text())
    judge = lineage["stages"]["judge"]
    assert judge["inputs"] == {"inputs/judge.jsonl": "0" * 64} and judge["code_sha256"] == "c" * 64
    assert judge["prefect"] == {"flow_run_id": "flow-run-1", "task_run_id": "task-judge"}
    assert judge["counts"]["rejected_by_reason"] == {"judge_below_threshold": 3}
    assert judge["seconds"] == 12.0 and judge["versions"]["datasets"] == datasets.__version__
    assert judge["models"][0]["judge"] == {"aspect": "accuracy", "mode": "parse", "threshold": 3.0,
                                           "max_new_tokens": 64}
    assert (repo / "pipeline.yaml").read_text() == (run / "pipeline.yaml").read_text()


def test_same_run_again_is_unchanged(published):
    run, repo, _ = published
    head = git(repo, "rev-parse", "HEAD")
    report = publish(run, repo)
    assert not report["new_version"] and report["targets"][0]["status"] == "unchanged"
    assert report["version"] == "v1" and git(repo, "rev-parse", "HEAD") == head


def test_more_rows_make_v2_with_the_diff_and_stable_splits(published, tmp_path):
    run, repo, _ = published
    before = {c: {r["id"]: s for s in ("train", "test") for r in load(repo, c, s, tmp_path)}
              for c in ("sft", "preferences")}
    bigger = make_run(tmp_path / "run2", n=16)
    report = publish(bigger, repo)
    assert report["version"] == "v2" and report["new_version"]
    assert report["targets"][0]["diff"]["sft"] == {"added": 3, "removed": 0}  # 12..15, minus 15
    assert report["targets"][0]["diff"]["preferences"] == {"added": 3, "removed": 0}
    assert git(repo, "tag").split() == ["v1", "v2"] and git(repo, "rev-list", "--count", "HEAD") == "2"
    for config, old in before.items():
        now = {r["id"]: s for s in ("train", "test") for r in load(repo, config, s, tmp_path)}
        assert all(now[i] == split for i, split in old.items())
    card = (repo / "README.md").read_text()
    assert "| v2 | " in card and "| 12 (+3 / -0) |" in card and "| v1 | " in card
    assert [v["version"] for v in list_versions(parse_target(repo))] == ["v1", "v2"]


def test_uncommitted_edits_are_refused_by_name_unless_forced(published):
    run, repo, _ = published
    (repo / "NOTES.md").write_text("mine\n")
    bigger = make_run(run.parent / "run2", n=16)
    with pytest.raises(InputError, match="uncommitted changes in the dataset repository: NOTES.md"):
        publish(bigger, repo)
    assert git(repo, "tag") == "v1"
    assert publish(bigger, repo, force=True)["version"] == "v2"


def test_a_damaged_run_folder_names_the_stage_and_file(tmp_path):
    run = make_run(tmp_path / "run")
    part = run / "judge" / "kept" / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(InputError, match="stage judge: kept/part-00000.parquet does not match the sha256"):
        publish(run, tmp_path / "dataset")
    assert not (tmp_path / "dataset").exists()
    (run / "dedup" / "manifest.json").unlink()
    with pytest.raises(InputError, match="stage dedup: no manifest.json"):
        publish(run, tmp_path / "dataset")


def test_publishing_needs_a_license(tmp_path):
    config = tmp_path / "p.yaml"
    config.write_text(yaml.safe_dump({"run": {"name": "x"}}))
    with pytest.raises(ConfigError, match="no `publish:` section"):
        load_publish_config(config)
    config.write_text(yaml.safe_dump({"publish": {"pretty_name": "x"}}))
    with pytest.raises(ConfigError, match="publish.license: required field is missing"):
        load_publish_config(config)


def test_a_failed_build_leaves_the_repository_as_it_was(published, monkeypatch):
    import pipelines.publish.build as build

    run, repo, _ = published
    head, files = git(repo, "rev-parse", "HEAD"), sorted(p.name for p in repo.iterdir())
    monkeypatch.setattr(build, "write_plots", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        publish(make_run(run.parent / "run2", n=16), repo)
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    assert sorted(p.name for p in repo.iterdir()) == files
    with pytest.raises(OSError, match="disk full"):
        publish(run, run.parent / "fresh")
    assert not (run.parent / "fresh").exists()


def test_a_non_empty_folder_that_is_not_a_repository_is_refused(tmp_path):
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "data.csv").write_text("a\n")
    with pytest.raises(InputError, match="not empty and not a git repository"):
        publish(make_run(tmp_path / "run"), tmp_path / "dataset")


def test_a_target_inside_another_repository_gets_its_own(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    publish(make_run(tmp_path / "run"), tmp_path / "out" / "dataset")
    assert git(tmp_path / "out" / "dataset", "rev-parse", "--show-toplevel") == \
        str((tmp_path / "out" / "dataset").resolve())
    assert git(tmp_path, "rev-list", "--all") == ""


def test_judge_evaluation_figures_go_into_the_card(tmp_path):
    from pipelines.io import write_json
    from pipelines.judge import JudgeConfig, evaluate_judge
    from tests.fakes import ScriptedGenerator

    run = make_run(tmp_path / "run")
    labelled = datasets.Dataset.from_list([
        {"prompt": "2 + 2?", "chosen": "Two plus two is four.", "rejected": "5"},
        {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "Hello there, how are you?"}])
    report, _ = evaluate_judge(labelled, JudgeConfig(),
                               model=ScriptedGenerator(lambda c, p, k: "Verdict: A"))
    write_json(run / "judge_eval" / "judge_eval.json", {**report, "file": "labelled.jsonl"})
    publish(run, tmp_path / "dataset")
    card = (tmp_path / "dataset" / "README.md").read_text()
    assert "The judge was not evaluated" not in card
    assert "judge_eval/judge_eval.json: 2 labelled pairs from `labelled.jsonl`" in card
    assert "| longest answer | 0.50 (" in card and "| method | agreement |" in card
    lineage = json.loads((tmp_path / "dataset" / "lineage.json").read_text())
    assert lineage["judge_evaluations"][0]["rows"] == 2
