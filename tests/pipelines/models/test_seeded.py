"""Seeded sampling is per record: batch, position and order do not change what a record gets."""

from pipelines.models import GenerationParams
from pipelines.models.params import record_seed, record_seeds
from pipelines.models.seeded import sample_seed

PROMPTS = [[{"role": "user", "content": text}] for text in (
    "Name a colour.", "Write a word that rhymes with cat.", "Give me a number between 1 and 9.")]
SAMPLE = GenerationParams(max_new_tokens=12, temperature=1.0, top_p=0.95, n=2, seed=5)


def texts(out):
    return [[c.text for c in comps] for comps in out]


def test_embedded_model_samples_the_same_in_any_batch(embedded_generator):
    together = texts(embedded_generator.generate(PROMPTS, SAMPLE))
    alone = [texts(embedded_generator.generate([p], SAMPLE))[0] for p in PROMPTS]
    reversed_order = texts(embedded_generator.generate(PROMPTS[::-1], SAMPLE))[::-1]
    assert together == alone == reversed_order
    assert any(a != b for a, b in together)  # a record's two samples are two draws


def test_another_seed_samples_differently(embedded_generator):
    first = texts(embedded_generator.generate(PROMPTS, SAMPLE))
    other = texts(embedded_generator.generate(PROMPTS, SAMPLE.model_copy(update={"seed": 6})))
    assert first != other


def test_record_seeds_follow_content_not_position():
    seeds = record_seeds(SAMPLE, PROMPTS)
    assert seeds == [record_seed(5, p) for p in PROMPTS]
    assert record_seeds(SAMPLE, PROMPTS[::-1]) == seeds[::-1]
    assert len(set(seeds)) == 3 and all(0 <= s < 2**63 for s in seeds)


def test_greedy_and_unseeded_calls_have_no_record_seeds():
    assert record_seeds(GenerationParams(), PROMPTS) is None
    assert record_seeds(SAMPLE.model_copy(update={"seed": None}), PROMPTS) is None


def test_each_sample_of_a_record_has_its_own_seed():
    assert sample_seed(11, 0) == 11
    assert len({sample_seed(11, k) for k in range(4)}) == 4
