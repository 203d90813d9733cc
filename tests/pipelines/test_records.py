import datasets

from pipelines.records import (
    INSTRUCTION_FEATURES,
    PREFERENCE_FEATURES,
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    content_id,
    make_instruction,
    make_preference,
    to_dataset,
)


def test_content_id_is_stable_and_ignores_key_order():
    assert content_id({"a": 1, "b": [1, 2]}) == content_id({"b": [1, 2], "a": 1})
    assert content_id("x") != content_id("y")
    assert len(content_id("x")) == 16


def test_instruction_id_hashes_the_conversation_not_the_lineage():
    a = make_instruction("Name a colour.", "", "Blue.", meta=InstructionMeta(source="a"))
    b = make_instruction("Name a colour.", "", "Blue.", meta=InstructionMeta(source="b"))
    c = make_instruction("Name a colour.", "", "Red.", meta=InstructionMeta(source="a"))
    assert a.id == b.id != c.id


def test_alpaca_view_puts_input_after_instruction():
    rec = make_instruction("Translate to French.", "cat", "chat", meta=InstructionMeta(source="t"))
    assert [m.model_dump() for m in rec.messages] == [
        {"role": "user", "content": "Translate to French.\n\ncat"},
        {"role": "assistant", "content": "chat"},
    ]


def test_features_follow_trl_columns():
    assert list(INSTRUCTION_FEATURES) == ["id", "messages", "instruction", "input", "output", "meta"]
    assert INSTRUCTION_FEATURES["messages"] == datasets.List(
        {"role": datasets.Value("string"), "content": datasets.Value("string")})
    assert {"prompt", "chosen", "rejected", "score_chosen", "score_rejected"} <= set(PREFERENCE_FEATURES)
    assert isinstance(PREFERENCE_FEATURES["meta"]["verdicts"], datasets.Json)


def test_to_dataset_keeps_features_when_empty():
    empty = to_dataset([], InstructionRecord)
    assert len(empty) == 0 and empty.features == INSTRUCTION_FEATURES


def test_preference_roundtrip_through_dataset():
    user = [Message(role="user", content="Say hi.")]
    pair = make_preference(user, [Message(role="assistant", content="Hi!")],
                           [Message(role="assistant", content="No.")],
                           meta=PreferenceMeta(source="t", verdicts={"ab": "A", "ba": "B"}),
                           score_chosen=5.0, score_rejected=1.0)
    ds = to_dataset([pair], PreferenceRecord)
    assert ds[0]["chosen"][0]["content"] == "Hi!"
    assert ds[0]["meta"]["verdicts"] == {"ab": "A", "ba": "B"}
    assert ds[0]["id"] == pair.id
