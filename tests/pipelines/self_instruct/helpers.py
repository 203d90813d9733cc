"""A scripted model for self-instruct tests: answers each kind of prompt predictably."""

import itertools
import json

from pipelines.models.params import Completion
from tests.fakes import ScriptedGenerator

SEEDS = [
    {"id": f"s{i}", "instruction": text, "instances": [{"input": inp, "output": out}],
     "is_classification": cls}
    for i, (text, inp, out, cls) in enumerate([
        ("Give the opposite of the given word.", "hot", "cold", False),
        ("Is the review positive or negative?", "Loved it.", "Positive", True),
        ("Translate the sentence into French.", "Good morning.", "Bonjour.", False),
        ("Label the statement as a fact or an opinion.", "Paris is in France.", "Fact", True),
        ("Summarise the paragraph in one sentence.", "Long text here.", "Short text.", False),
        ("Sort the numbers from smallest to largest.", "3, 1, 2", "1, 2, 3", False),
        ("Suggest a name for a new coffee shop.", "", "The Daily Grind", False),
        ("Explain what a budget is to a child.", "", "A plan for money.", False),
        ("Decide whether the message is spam or not spam.", "Win a prize now!", "Spam", True),
        ("Write a haiku about autumn leaves falling.", "", "Red leaves drift down", False),
    ])]


def write_seeds(path):
    path.write_text("".join(json.dumps(s) + "\n" for s in SEEDS), encoding="utf-8")
    return path


NEW_TASKS = [
    "Describe the rules of chess for a complete beginner.",
    "Recommend three books for someone who enjoys science fiction novels.",
    "Plan a healthy breakfast menu for a busy working week.",
    "Explain why the sky looks blue on a sunny day.",
    "Decide whether the sentence expresses anger or joy.",
    "Compose a short thank-you note for a helpful neighbour.",
    "List the main causes of the French Revolution in order.",
    "Convert the recipe quantities from cups to grams.",
    "Outline the steps for changing a flat bicycle tyre.",
    "Classify the movie review as positive or negative.",
    "Suggest ways to reduce food waste in a large household.",
    "Summarise the benefits of regular walking for older adults.",
]


class SelfInstructFake(ScriptedGenerator):
    """Bootstrap prompts get numbered lists of fresh tasks (`batches` overrides them per call);
    classification asks get Yes when the task mentions a label pair; instance asks get
    well-formed examples."""

    def __init__(self, batches=None, fail_from_call=None):
        self.fresh = itertools.cycle(NEW_TASKS)
        self.batches = list(batches or [])
        self.fail_from_call = fail_from_call
        self.bootstrap_calls = 0
        super().__init__(self._respond)

    def generate(self, conversations, params, n=None, *, progress=None):
        first = conversations[0][-1]["content"] if conversations else ""
        if first.startswith("Below is a numbered list") or first.startswith("Your job is to write"):
            self.bootstrap_calls += 1
            if self.fail_from_call is not None and self.bootstrap_calls >= self.fail_from_call:
                raise RuntimeError("simulated crash")
        return super().generate(conversations, params, n, progress=progress)

    def _respond(self, conv, params, k):
        prompt = conv[-1]["content"]
        if prompt.startswith("Below is a numbered list"):
            if self.batches:
                text, reason = self.batches.pop(0)
                return Completion(text=text, finish_reason=reason, prompt_tokens=1, completion_tokens=1)
            return "Sure, here you go:\n" + "\n".join(f"{9 + i}. {next(self.fresh)}" for i in range(3))
        if prompt.startswith("Your job is to write"):
            return ("###\n4. Instruction: Give a synonym for the word happy.\n4. Input:\n<noinput>\n"
                    "4. Output:\nJoyful\n###\n5. Instruction: Reverse the order of the letters.\n"
                    "5. Input:\nstar\n5. Output:\nrats\n###\n6. Instruction: Name an animal.\n")
        system = conv[0]["content"] if conv[0]["role"] == "system" else ""
        task = prompt.removeprefix("Task: ").strip()
        if system.startswith("You decide whether a task"):
            return "Yes" if any(w in task for w in ("positive or negative", "anger or joy")) else "No"
        if system.startswith("For each classification task"):
            return "Label: Positive\nInput: A lovely day.\nLabel: Negative\nInput: A dull film."
        return f"Example 1\nInput: first input for {task[:10]}\nOutput: first output\n" \
               f"Example 2\nInput: second input\nOutput: second output"
