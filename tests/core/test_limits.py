"""Token buckets, keyed limiters and counters on a hand-driven clock."""

from __future__ import annotations

import pytest

from bot.core.limits import Counter, KeyedLimiter, Rate, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait():
    clock = Clock()
    bucket = TokenBucket(Rate(per_minute=6, burst=3), clock)  # one token per 10 s
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(10.0)
    clock.now += 4
    assert bucket.take() == pytest.approx(6.0)
    clock.now += 6
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(10.0)


def test_a_bucket_refills_to_its_burst_and_no_further():
    clock = Clock()
    bucket = TokenBucket(Rate(per_minute=60, burst=2), clock)
    bucket.take()
    bucket.take()
    clock.now += 3600
    assert bucket.full()
    assert [bucket.take() for _ in range(3)][:2] == [0.0, 0.0]
    assert bucket.take() > 0


def test_keys_have_their_own_buckets_and_full_ones_are_forgotten():
    clock = Clock()
    limiter = KeyedLimiter(Rate(per_minute=60, burst=1), clock, sweep_every=1_000_000)
    assert limiter.take("10.0.0.1") == 0.0
    assert limiter.take("10.0.0.1") > 0
    assert limiter.take("10.0.0.2") == 0.0  # another address is not slowed down
    assert len(limiter) == 2
    clock.now += 1.0  # both refilled: a full bucket is the same as no bucket
    limiter.sweep()
    assert len(limiter) == 0
    assert limiter.take("10.0.0.1") == 0.0


def test_a_flood_of_new_keys_is_swept_as_it_goes():
    clock = Clock()
    limiter = KeyedLimiter(Rate(per_minute=600, burst=1), clock, sweep_every=100)
    for i in range(1000):
        limiter.take(f"198.51.100.{i}")
        clock.now += 0.1  # each bucket refills within 0.1 s
    assert len(limiter) < 200


def test_a_counter_refuses_past_its_limit_and_frees_on_release():
    counter = Counter(2)
    assert counter.acquire("a") and counter.acquire("a")
    assert not counter.acquire("a")
    assert counter.acquire("b")
    counter.release("a")
    assert counter.count("a") == 1 and counter.acquire("a")
    counter.release("b")
    assert counter.count("b") == 0
