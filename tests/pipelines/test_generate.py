import datasets
import pytest

from pipelines.errors import InputError
from pipelines.generate import generate_records
from pipelines.models import GenerationParams
from tests.fakes import ScriptedGenerator

echo = ScriptedGenerator(lambda conv, params, k: f"{len(conv)}:{conv[-1]['content']}#{k}")


def test_prompt_messages_and_instruction_columns():
    prompts = datasets.Dataset.from_list([{"prompt": "a"}, {"prompt": "b"}])
    out = generate_records(prompts, echo, GenerationParams(temperature=1.0, n=2))
    assert out.kept[0]["completions"][1]["text"] == "1:a#1"
    assert out.stats["completions"] == 4 and len(out.rejected) == 0
    chats = datasets.Dataset.from_list([{"messages": [{"role": "user", "content": "q"},
                                                      {"role": "assistant", "content": "old"}]}])
    assert generate_records(chats, echo, GenerationParams()).kept[0]["completions"][0]["text"] == "1:q#0"
    alpaca = datasets.Dataset.from_list([{"instruction": "Translate.", "input": "cat"}])
    assert generate_records(alpaca, echo, GenerationParams()).kept[0]["completions"][0]["text"] == \
        "1:Translate.\n\ncat#0"


def test_empty_prompt_names_the_row():
    prompts = datasets.Dataset.from_list([{"prompt": "a"}, {"prompt": "  "}])
    with pytest.raises(InputError, match=r"p.jsonl, row 1, field 'prompt': expected a non-empty prompt"):
        generate_records(prompts, echo, GenerationParams(), file="p.jsonl")


def test_no_prompt_column():
    with pytest.raises(InputError, match="no prompt column"):
        generate_records(datasets.Dataset.from_list([{"text": "a"}]), echo, GenerationParams())
