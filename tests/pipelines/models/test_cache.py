import contextlib

from pipelines.models import GenerationParams
from pipelines.models.cache import CachedGenerator
from tests.fakes import ScriptedGenerator

ASK = [{"role": "user", "content": "hi"}]


def test_second_run_pays_only_for_new_prompts(tmp_path):
    fake = ScriptedGenerator(lambda conv, params, k: conv[-1]["content"].upper())
    cached = CachedGenerator(fake, tmp_path / "c.sqlite", chunk=2)
    convs = [[{"role": "user", "content": w}] for w in ("a", "b", "c")]
    first = cached.generate(convs, GenerationParams())
    assert [c[0].text for c in first] == ["A", "B", "C"] and cached.misses == 3
    again = CachedGenerator(fake, tmp_path / "c.sqlite")
    more = again.generate(convs + [[{"role": "user", "content": "d"}]], GenerationParams())
    assert [c[0].text for c in more] == ["A", "B", "C", "D"]
    assert (again.hits, again.misses) == (3, 1)
    assert fake.calls[-1]["conversations"] == [[{"role": "user", "content": "d"}]]


def test_key_covers_parameters(tmp_path):
    fake = ScriptedGenerator(lambda conv, params, k: str(params.max_new_tokens))
    cached = CachedGenerator(fake, tmp_path / "c.sqlite")
    assert cached.generate([ASK], GenerationParams(max_new_tokens=5))[0][0].text == "5"
    assert cached.generate([ASK], GenerationParams(max_new_tokens=6))[0][0].text == "6"


def test_finished_chunks_survive_a_crash(tmp_path):
    def respond(conv, params, k):
        if conv[-1]["content"] == "boom":
            raise RuntimeError("crash")
        return "ok"

    cached = CachedGenerator(ScriptedGenerator(respond), tmp_path / "c.sqlite", chunk=1)
    convs = [[{"role": "user", "content": w}] for w in ("a", "b", "boom")]
    with contextlib.suppress(RuntimeError):
        cached.generate(convs, GenerationParams())
    fresh = CachedGenerator(ScriptedGenerator(lambda *a: "new"), tmp_path / "c.sqlite")
    out = fresh.generate(convs[:2], GenerationParams())
    assert [c[0].text for c in out] == ["ok", "ok"] and fresh.misses == 0


def test_score_tokens_are_cached(tmp_path):
    fake = ScriptedGenerator([], scores=lambda conv, prefix, cands: {c: -1.0 for c in cands})
    cached = CachedGenerator(fake, tmp_path / "c.sqlite")
    assert cached.score_tokens([ASK], "S: ", ["1", "2"]) == [{"1": -1.0, "2": -1.0}]
    assert cached.score_tokens([ASK], "S: ", ["1", "2"]) == [{"1": -1.0, "2": -1.0}]
    assert len(fake.calls) == 1
