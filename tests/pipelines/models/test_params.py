import pytest
from pydantic import ValidationError

from pipelines.models import GenerationParams
from pipelines.models.params import cut_at_stop


def test_strategy_follows_parameters():
    assert GenerationParams().strategy == "greedy"
    assert GenerationParams(temperature=0.7, top_p=0.5).strategy == "sample"
    assert GenerationParams(num_beams=4, length_penalty=0.8).strategy == "beam"


@pytest.mark.parametrize("kwargs,message", [
    ({"num_beams": 2, "temperature": 0.5}, "beam search is deterministic"),
    ({"length_penalty": 1.2}, "length_penalty applies to beam search"),
    ({"top_p": 0.9}, "top_k / top_p apply to sampling"),
    ({"n": 3}, "greedy completions would be identical"),
    ({"num_beams": 2, "n": 3}, "more than num_beams"),
    ({"stop": [""]}, "stop strings must not be empty"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_contradictory_parameters_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        GenerationParams(**kwargs)


def test_cut_at_stop_takes_the_earliest():
    assert cut_at_stop("a. b\n\nc###d", ["###", "\n\n"]) == ("a. b", True)
    assert cut_at_stop("abc", ["x"]) == ("abc", False)
