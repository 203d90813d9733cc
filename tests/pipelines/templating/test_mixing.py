import random

import pytest

from pipelines.templating.mixing import mixing_quotas, sample_keep


def test_max_rate_caps_large_tasks():
    assert mixing_quotas({"a": 10_000, "b": 500}, max_rate=3000, total=None) == {"a": 3000, "b": 500}


def test_total_is_split_examples_proportionally():
    quotas = mixing_quotas({"a": 10_000, "b": 500, "c": 40}, max_rate=3000, total=1000)
    assert quotas == {"a": 848, "b": 141, "c": 11}
    assert sum(quotas.values()) == 1000


def test_total_never_exceeds_a_task_size():
    quotas = mixing_quotas({"a": 10, "b": 5}, max_rate=None, total=100)
    assert quotas == {"a": 10, "b": 5}


def test_no_rate_and_no_total_keeps_everything():
    assert mixing_quotas({"a": 7}, max_rate=None, total=None) == {"a": 7}


@pytest.mark.parametrize("n,keep", [(10, 3), (5, 5), (3, 10)])
def test_sample_keep_is_seeded(n, keep):
    a = sample_keep(n, keep, random.Random("s"))
    assert a == sample_keep(n, keep, random.Random("s"))
    assert sum(a) == min(n, keep)
