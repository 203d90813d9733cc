import re

import pytest

from pipelines.models.params import Completion
from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.rounds import run_round
from pipelines.self_instruct.seeds import Task, read_seeds, seed_tasks
from pipelines.self_instruct.stage import bootstrap_instructions

from .helpers import SEEDS, SelfInstructFake, write_seeds


@pytest.fixture
def config(tmp_path):
    return SelfInstructConfig(seeds=write_seeds(tmp_path / "seeds.jsonl"), requests_per_round=3,
                              target=6, max_rounds=4)


@pytest.fixture
def seeds(config):
    return seed_tasks(read_seeds(config), config.seed_fields)


def _shown(prompt):
    return re.findall(r"^\d+\. (.+)$", prompt.split("\n\nContinue the list")[0], flags=re.M)


def test_prompt_shows_eight_numbered_seeds_before_the_pool_has_machine_tasks(config, seeds):
    fake = SelfInstructFake()
    run_round(0, seeds, [], config, fake)
    prompts = [c[-1]["content"] for c in fake.calls[0]["conversations"]]
    assert len(prompts) == 3
    seed_texts = {s["instruction"] for s in SEEDS}
    for prompt in prompts:
        shown = _shown(prompt)
        assert len(shown) == 8 and set(shown) <= seed_texts
        assert "numbered 9 to 16" in prompt


def test_six_seeds_and_two_machine_tasks_shuffled(config, seeds):
    machine = [Task(f"m{i}", text, machine=True) for i, text in enumerate(
        ["Invent a riddle about the moon.", "Name four rivers in Africa.", "Describe a busy market."])]
    fake = SelfInstructFake()
    run_round(1, seeds, machine, config, fake)
    positions = set()
    for conv in fake.calls[0]["conversations"]:
        shown = _shown(conv[-1]["content"])
        from_machine = [i for i, s in enumerate(shown) if s in {m.instruction for m in machine}]
        assert len(shown) == 8 and len(from_machine) == 2
        positions.update(from_machine)
    assert positions - {0, 1}  # machine tasks are not always first


def test_every_filter_rejects_with_its_reason(config, seeds):
    reply = "\n".join([
        "9. Name three birds.",                                   # too short
        "10. " + "word " * 151,                                   # too long
        "11. Describe the picture hanging in the hall.",           # blacklisted
        "12. Write a program that adds two numbers together.",    # write a program
        '13. "Quoted" instructions start with punctuation marks.',  # punctuation
        "14. Écrivez un poème sur la mer et le vent.",             # non-ascii
        "15. Give the opposite of the given word please.",         # too similar to a seed
        "16. Plan a weekend trip to the mountains with friends.",  # accepted
        "17. Explain how a rainbow forms after a summer",          # truncated (last, length)
    ])
    fake = SelfInstructFake(batches=[(reply, "length")] + [("", "stop")] * 2)
    out = run_round(0, seeds, [], config, fake)
    reasons = [r["reason"] for r in out.rejected if r["kind"] == "instruction"]
    assert reasons == ["self_instruct_too_short", "self_instruct_too_long",
                       "self_instruct_blacklisted_word", "self_instruct_write_a_program",
                       "self_instruct_starts_with_punctuation", "self_instruct_non_ascii_start",
                       "self_instruct_rouge_too_similar", "self_instruct_truncated"]
    similar = next(r for r in out.rejected if r["reason"] == "self_instruct_rouge_too_similar")
    assert similar["similar"] == "Give the opposite of the given word." and similar["score"] > 0.7
    assert [t.instruction for t in out.accepted] == ["Plan a weekend trip to the mountains with friends."]
    assert out.stats["candidates"] == 9 and out.stats["responses_without_tasks"] == 2


def test_near_copies_within_a_round_are_rejected(config, seeds):
    reply = "9. Plan a weekend trip to the mountains with friends.\n" \
            "10. Plan a weekend trip to the mountains with your friends."
    fake = SelfInstructFake(batches=[(reply, "stop")] + [("", "stop")] * 2)
    out = run_round(0, seeds, [], config, fake)
    assert len(out.accepted) == 1
    assert out.rejected[0]["reason"] == "self_instruct_rouge_too_similar"


def test_classification_tasks_get_output_first_instances(config, seeds):
    reply = "9. Tell me if this tweet expresses anger or joy.\n10. Describe the rules of chess for beginners."
    fake = SelfInstructFake(batches=[(reply, "stop")] + [("", "stop")] * 2)
    out = run_round(0, seeds, [], config, fake)
    by_task = {t.instruction: t for t in out.accepted}
    assert by_task["Tell me if this tweet expresses anger or joy."].is_classification is True
    assert by_task["Describe the rules of chess for beginners."].is_classification is False
    instance_prompts = [c["conversations"] for c in fake.calls if c["method"] == "generate"][-1]
    systems = {p[0]["content"].split(",")[0] for p in instance_prompts}
    assert systems == {"For each classification task you are shown", "For each task you are shown"}
    classify = [c["conversations"] for c in fake.calls if c["method"] == "generate"][1][0]
    assert [m["role"] for m in classify][:3] == ["system", "user", "assistant"]
    assert {m["content"] for m in classify if m["role"] == "assistant"} == {"Yes", "No"}
    records = {(r.instruction, r.output) for r in out.records}
    assert ("Tell me if this tweet expresses anger or joy.", "Positive") in records


def test_records_carry_lineage(config, seeds):
    out = run_round(0, seeds, [], config, SelfInstructFake())
    meta = out.records[0].meta.self_instruct
    assert meta.round == 0 and meta.mode == "self_instruct" and meta.model == "fake:scripted"
    assert len(meta.seed_ids) == 8 and meta.pool_ids == []
    assert meta.params["temperature"] == 0.7 and meta.params["presence_penalty"] == 2.0
    assert meta.most_similar and meta.max_rouge == meta.most_similar[0].score <= 0.7


def test_pool_grows_across_rounds_until_the_target(config, seeds):
    fake = SelfInstructFake()
    result = bootstrap_instructions(read_seeds(config), config.model_copy(update={"target": 10}),
                                    model=fake)
    stats = result.stats
    assert stats["rounds"] >= 2 and stats["accepted"] >= 9
    bootstraps = [c for c in fake.calls if c["method"] == "generate"
                  and c["conversations"][0][-1]["content"].startswith("Below")]
    first_round = {r["instruction"] for r in result.kept.to_list() if r["meta"]["self_instruct"]["round"] == 0}
    assert all(len(set(_shown(c[-1]["content"])) & first_round) == 2 for c in bootstraps[1]["conversations"])
    instruction_rejections = sum(1 for r in result.rejected.to_list() if r["kind"] == "instruction"
                                 and r["reason"] != "self_instruct_no_instances")
    assert stats["candidates"] == stats["accepted"] + instruction_rejections


def test_alpaca_mode(config, seeds):
    alpaca = config.model_copy(update={"mode": "alpaca", "requests_per_round": 1})
    fake = SelfInstructFake()
    out = run_round(0, seeds, [], alpaca, fake)
    prompt = fake.calls[0]["conversations"][0][-1]["content"]
    assert prompt.count("Instruction:") == 3 and "numbering the tasks from 4" in prompt
    assert [(r.instruction, r.input, r.output) for r in out.records] == [
        ("Give a synonym for the word happy.", "", "Joyful"),
        ("Reverse the order of the letters.", "star", "rats")]
    assert out.records[0].meta.self_instruct.is_classification is None
    assert "video" in alpaca.blacklist and "video" not in config.blacklist


def test_no_instances_is_a_counted_rejection(config, seeds):
    fake = SelfInstructFake(batches=[("9. Describe the rules of chess for beginners.", "stop")] + [("", "stop")] * 2)
    fake.respond = lambda conv, params, k: (
        "No" if conv[0]["content"].startswith("You decide") else "nothing useful"
    ) if not conv[-1]["content"].startswith("Below") else SelfInstructFake._respond(fake, conv, params, k)
    out = run_round(0, seeds, [], config, fake)
    assert out.records == [] and out.rejected[-1]["reason"] == "self_instruct_no_instances"
    assert len(out.accepted) == 1  # still in the pool


def test_truncated_instance_list_drops_the_last(config, seeds):
    fake = SelfInstructFake(batches=[("9. Describe the rules of chess for beginners.", "stop")] + [("", "stop")] * 2)
    inner = fake.respond

    def respond(conv, params, k):
        if conv[0]["content"].startswith("For each task"):
            return Completion(text="Input: a\nOutput: b\nInput: c\nOutput: d", finish_reason="length",
                              prompt_tokens=1, completion_tokens=1)
        return inner(conv, params, k)

    fake.respond = respond
    out = run_round(0, seeds, [], config, fake)
    assert [(r.input, r.output) for r in out.records] == [("a", "b")]
    assert out.rejected[-1]["reason"] == "self_instruct_instance_truncated"
