import datasets
import pytest

from pipelines.errors import InputError
from pipelines.generate import GenerateConfig, check_prompts, generate_records
from pipelines.io import read_sources
from tests.fakes import ScriptedGenerator

echo = ScriptedGenerator(lambda conv, params, k: f"{len(conv)}:{conv[-1]['content']}#{k}")


def _generate(records, **params):
    return generate_records(datasets.Dataset.from_list(records),
                            GenerateConfig(params=params), model=echo)


def test_prompt_messages_and_instruction_columns():
    out = _generate([{"prompt": "a"}, {"prompt": "b"}], temperature=1.0, n=2)
    assert out.kept[0]["completions"][1]["text"] == "1:a#1"
    assert out.stats["completions"] == 4 and len(out.rejected) == 0
    chats = [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "old"}]}]
    assert _generate(chats).kept[0]["completions"][0]["text"] == "1:q#0"
    alpaca = [{"instruction": "Translate.", "input": "cat"}]
    assert _generate(alpaca).kept[0]["completions"][0]["text"] == "1:Translate.\n\ncat#0"


def test_empty_prompt_names_the_row():
    with pytest.raises(InputError, match=r"row 1, field 'prompt': expected a non-empty prompt"):
        _generate([{"prompt": "a"}, {"prompt": "  "}])


def test_reading_names_the_file_and_line(write_lines):
    path = write_lines("p.jsonl", ['{"prompt": "a"}', '{"prompt": "  "}'])
    with pytest.raises(InputError, match=r"p.jsonl, line 2, field 'prompt': expected a non-empty"):
        read_sources([path], check=check_prompts(None))


def test_no_prompt_column():
    with pytest.raises(InputError, match="no prompt column"):
        _generate([{"text": "a"}])


def test_a_model_is_required():
    with pytest.raises(ValueError, match="the generate stage needs a model"):
        generate_records(datasets.Dataset.from_list([{"prompt": "a"}]), GenerateConfig())
