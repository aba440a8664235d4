"""Token bucket and rate limiter: a fake clock (never wall time), and the hook on real botocore clients."""

from __future__ import annotations

import threading

import pytest

from auditor.collect.aws import AwsOptions
from auditor.collect.ratelimit import (
    LimitedAwsContext,
    RateBudget,
    RateLimiter,
    TokenBucket,
    account_of_role,
    max_in_window,
)
from auditor.sim import SimulatedAws


class FakeClock:
    """time.monotonic + time.sleep stand-ins: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def test_burst_is_free_then_one_token_per_interval() -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateBudget(rate=10, burst=40), clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(40)] == [0.0] * 40
    assert bucket.acquire() == pytest.approx(0.1)
    assert bucket.acquire() == pytest.approx(0.1)  # the clock moved with the first sleep
    assert clock.now == pytest.approx(1000.2)


def test_sustained_rate_and_window_bound() -> None:
    clock = FakeClock()
    budget = RateBudget(rate=10, burst=40)
    bucket = TokenBucket(budget, clock=clock, sleep=clock.sleep)
    for _ in range(240):
        bucket.acquire()
    # 40 from the burst, the other 200 at 10/s
    assert clock.now - 1000.0 == pytest.approx(20.0)
    assert max_in_window(bucket.sent, 1.0) <= 40 + 10
    for window in (0.5, 1.0, 2.0, 5.0):
        assert budget.allows(max_in_window(bucket.sent, window), window)
    # past the burst the bucket spaces attempts exactly 1/rate apart
    tail = bucket.sent[40:]
    gaps = {round(b - a, 9) for a, b in zip(tail, tail[1:], strict=False)}
    assert gaps == {0.1}


def test_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateBudget(rate=5, burst=3), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    clock.advance(3600)  # an idle hour refills 3 tokens, not 18000
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(0.2)


def test_partial_refill() -> None:
    clock = FakeClock()
    bucket = TokenBucket(RateBudget(rate=10, burst=2), clock=clock, sleep=clock.sleep)
    bucket.acquire(), bucket.acquire()
    clock.advance(0.05)  # half a token
    assert bucket.acquire() == pytest.approx(0.05)


def test_concurrent_waiters_are_queued_never_oversubscribed() -> None:
    """Threads on a frozen clock: each reservation waits one interval longer than the previous one."""
    frozen = FakeClock()
    waits: list[float] = []
    lock = threading.Lock()
    bucket = TokenBucket(RateBudget(rate=10, burst=4), clock=frozen, sleep=lambda s: None)

    def worker() -> None:
        for _ in range(5):
            w = bucket.acquire()
            with lock:
                waits.append(round(w, 9))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [0.0] * 4 + [round(0.1 * k, 9) for k in range(1, 37)]


def test_limiter_keeps_one_bucket_per_account_region() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateBudget(rate=1, burst=2), clock=clock, sleep=clock.sleep)
    for key in [("a", "us-east-1"), ("a", "eu-west-1"), ("b", "us-east-1")]:
        assert [limiter.acquire(key) for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire(("a", "us-east-1")) == pytest.approx(1.0)
    assert limiter.calls(("a", "us-east-1")) == 3 and limiter.calls(("b", "us-east-1")) == 2
    assert limiter.waited_s == pytest.approx(1.0)


def test_budget_validation_and_helpers() -> None:
    with pytest.raises(ValueError):
        RateBudget(rate=0)
    with pytest.raises(ValueError):
        RateBudget(burst=0)
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert max_in_window([], 1.0) == 0
    assert account_of_role("arn:aws:iam::111122223333:role/audit") == "111122223333"
    assert account_of_role("arn:aws:rds:us-east-1:1:cluster:x") is None
    assert account_of_role(None) is None


@pytest.mark.moto_server
def test_every_http_attempt_takes_a_token(aws_env: SimulatedAws) -> None:
    """On real clients (sim over HTTP): one token per attempt, retries included, keyed by client region."""
    clock = FakeClock()
    limiter = RateLimiter(RateBudget(rate=10, burst=3), clock=clock, sleep=clock.sleep)
    ctx = LimitedAwsContext(AwsOptions(region="us-east-1", endpoint_url=aws_env.endpoint_url), limiter)
    rds = ctx.client("rds", "us-east-1")
    for _ in range(5):
        rds.describe_db_clusters()
    ctx.client("rds", "eu-west-1").describe_db_clusters()
    assert ctx.call_log.count("rds.DescribeDBClusters") == 6
    assert limiter.calls(("default", "us-east-1")) == 5
    assert limiter.calls(("default", "eu-west-1")) == 1
    assert clock.slept == pytest.approx([0.1, 0.1])  # calls 4 and 5 waited for a token

    # Throttled attempts are retried by botocore (standard mode); each retry also takes a token.
    aws_env.fail_operation("DescribeDBInstances", code="Throttling", status=400, count=2)
    rds.describe_db_instances()
    assert ctx.call_log.count("rds.DescribeDBInstances") == 1
    assert limiter.calls(("default", "us-east-1")) == 5 + 3
