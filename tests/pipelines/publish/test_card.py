"""The card's metadata checks and Markdown helpers."""

from pipelines.publish.card import card_metadata, metadata_yaml, size_category, validate_card
from pipelines.publish.config import PublishConfig
from pipelines.publish.describe import fenced, md_table


def card(**changes):
    meta = card_metadata(PublishConfig(license="apache-2.0"), "x",
                         {"sft": {"train": []}}, records=10)
    meta.update(changes)
    return f"---\n{metadata_yaml(meta).strip()}\n---\n\n# x\n"


def test_a_complete_card_validates(tmp_path):
    (tmp_path / "data" / "sft").mkdir(parents=True)
    (tmp_path / "data" / "sft" / "train-00000-of-00001.parquet").write_bytes(b"x")
    assert validate_card(card(), tmp_path) == []


def test_problems_are_named():
    problems = validate_card(card(license="apache", language=["english"], size_categories=["big"]))
    assert problems == ["license: 'apache' is not a Hub license id",
                        "language: unknown codes ['english']",
                        "size_categories: ['big'] is not a Hub size category"]


def test_data_files_must_match_files(tmp_path):
    assert validate_card(card(), tmp_path) == [
        "configs[0].data_files: data/sft/train-*.parquet matches no file"]


def test_size_categories_follow_the_hub():
    assert [size_category(n) for n in (0, 999, 1000, 250_000)] == \
        ["n<1K", "n<1K", "1K<n<10K", "100K<n<1M"]


def test_markdown_cells_and_fences_survive_their_content():
    assert md_table(["a"], [["x|y\nz"]]).splitlines()[-1] == "| x\\|y z |"
    assert fenced("has ``` inside").startswith("````json\n")


def test_models_table_pins_models_and_lists_every_decoding_block():
    from pipelines.publish.describe import models_table

    lineage = {"stages": {"self_instruct": {
        "models": [{"role": "model", "id": "org/m", "backend": "vllm", "revision": "abc123",
                    "params": {"max_new_tokens": 160, "temperature": 0.7}}],
        "decoding": {"params": {"max_new_tokens": 160, "temperature": 0.7},
                     "instances.params": {"max_new_tokens": 120, "temperature": 0.0}}}}}
    table, judges, decoding = models_table(lineage)
    assert "| self_instruct | `model` | org/m | vllm | revision `abc123` | max_new_tokens=160, " \
           "temperature=0.7 |" in table
    assert judges == [] and decoding == [
        "self_instruct (`instances.params`): max_new_tokens=120, temperature=0.0"]


def test_dedup_about_names_the_tasks_it_removed_most_of():
    from pipelines.publish.describe import _dedup_shares

    stats = {"removed_by": {"meta.template.task": {
        "squad": {"rows": 400, "removed": 399, "share": 0.998},
        "nli": {"rows": 10, "removed": 1, "share": 0.1},
        "math": {"rows": 5, "removed": 0, "share": 0.0}}}}
    assert _dedup_shares(stats) == \
        " Most removed by `meta.template.task`: squad 399 of 400 (100%), nli 1 of 10 (10%)."
    assert _dedup_shares({"removed_by": {}}) == ""
