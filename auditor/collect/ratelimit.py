"""Client-side rate limiting: a token bucket per account-region, on every HTTP attempt a client sends.

AWS throttles RDS Describe* per account and region (the RDS API Reference, "Throttling" / Service Quotas
"API request throttling": a bucket that refills at a fixed rate with a burst allowance; ~12 Describe calls
per second on many accounts). A fleet run audits many regions and accounts at once, so each account-region
gets its own bucket here, conservatively below that budget (default 10 calls/s, burst 40), and every
attempt — retries included — takes a token before it is sent. botocore's `standard` retry mode (set in
auditor/collect/aws.py) still backs off if AWS throttles anyway.

The hook is botocore's `before-send` event: it fires once per HTTP attempt, after the read-only guard and
the call log (both on `provide-client-params`, see aws.py), and never for a call refused before sending.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from auditor.collect.aws import AwsContext, AwsOptions, CallLog

DEFAULT_RATE = 10.0  # tokens (HTTP attempts) per second, per account-region
DEFAULT_BURST = 40  # bucket capacity

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RateBudget:
    """Sustained calls per second and burst, per account-region."""

    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(
                f"rate budget needs rate > 0 and burst >= 1, got {self.rate}/s burst {self.burst}"
            )

    def allows(self, calls: int, window_s: float) -> bool:
        """True when `calls` in a window of `window_s` seconds fit the bucket: burst + rate x window."""
        return calls <= self.burst + self.rate * window_s + 1e-9


class TokenBucket:
    """A thread-safe token bucket. `acquire()` reserves a token and sleeps until it is due.

    Reservation first, sleep outside the lock: waiters queue in arrival order and never oversubscribe.
    """

    def __init__(
        self, budget: RateBudget, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.budget = budget
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(budget.burst)
        self._last = clock()
        self.sent: list[float] = []  # when each token was used (clock time), for observed-rate reports

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before sending (0 when one is available)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.budget.burst), self._tokens + (now - self._last) * self.budget.rate)
            self._last = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.budget.rate
            self.sent.append(now + wait)
            return wait

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


def max_in_window(times: list[float], window_s: float = 1.0) -> int:
    """The largest number of events inside any half-open window [t, t + window_s)."""
    ts = sorted(times)
    best = 0
    lo = 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class RateLimiter:
    """One TokenBucket per key (account, region); attaches itself to botocore clients."""

    def __init__(
        self, budget: RateBudget | None = None, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.budget = budget or RateBudget()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[Hashable, TokenBucket] = {}
        self.waited_s = 0.0

    def bucket(self, key: Hashable) -> TokenBucket:
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = TokenBucket(self.budget, clock=self._clock, sleep=self._sleep)
                self._buckets[key] = b
            return b

    def acquire(self, key: Hashable) -> float:
        wait = self.bucket(key).acquire()
        if wait:
            with self._lock:
                self.waited_s += wait
        return wait

    def attach(self, client: Any, key: Hashable) -> None:
        """Every HTTP attempt of `client` takes a token from `key`'s bucket first (botocore `before-send`)."""

        def before_send(**_: Any) -> None:
            self.acquire(key)
            return None  # never short-circuit: botocore sends the request itself

        client.meta.events.register("before-send", before_send, unique_id="aurora-audit-ratelimit")

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._buckets)

    def calls(self, key: Hashable) -> int:
        return len(self.bucket(key).sent)

    def max_rate(self, key: Hashable, window_s: float = 1.0) -> int:
        """Observed maximum attempts sent in any `window_s` window for `key`."""
        return max_in_window(list(self.bucket(key).sent), window_s)


class LimitedAwsContext(AwsContext):
    """An AwsContext whose clients share a RateLimiter, keyed (account label, client region).

    Only client creation is extended (aws.py's guard, call log and retry config are unchanged). The account
    label is the role ARN's account when a role is assumed, else "default" (known without an API call).
    """

    def __init__(
        self,
        options: AwsOptions,
        limiter: RateLimiter,
        call_log: CallLog | None = None,
        *,
        account_label: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, call_log, **kwargs)
        self.limiter = limiter
        self.account_label = account_label or account_of_role(options.role_arn) or "default"

    def _make_client(self, session: Any, service: str, region: str | None) -> Any:
        client = super()._make_client(session, service, region)
        self.limiter.attach(client, (self.account_label, client.meta.region_name))
        return client


def account_of_role(role_arn: str | None) -> str | None:
    """`arn:aws:iam::123456789012:role/x` -> "123456789012" (None when not an IAM role ARN)."""
    if not role_arn:
        return None
    parts = role_arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[2] == "iam" and parts[4]:
        return parts[4]
    return None
