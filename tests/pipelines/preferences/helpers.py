"""Scripted scorers and samplers for preference tests."""

from tests.fakes import ScriptedGenerator


class TableScorer:
    """Scores from a table: {response text: score} (missing texts score None)."""

    kind, mode = "rating", "logprob"

    def __init__(self, table, name="fake:judge"):
        self.table, self.name = table, name

    def score(self, conversations, responses):
        return [[self.table.get(t) for t in texts] for texts in responses], [{} for _ in responses]


def sampler(answers_per_prompt, name="fake:sampler"):
    """A generator answering each prompt with the listed texts, in order (cycled per call)."""
    def respond(conv, params, k):
        return answers_per_prompt[conv[-1]["content"]][k]
    return ScriptedGenerator(respond, name=name)
