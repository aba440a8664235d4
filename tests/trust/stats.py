"""Counters for the trust suite: fuzzed inputs tried and faults injected, with their outcomes.

Printed at the end of a run (`pytest tests/trust -q`) and, when TRUST_STATS_FILE is set, written there
as JSON. Each count is incremented where the input is actually tried or the fault actually injected.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter

_lock = threading.Lock()
FUZZ: Counter[str] = Counter()  # property -> examples tried
FUZZ_OUTCOMES: Counter[str] = Counter()  # "property: exit N" -> examples
FAULTS: Counter[str] = Counter()  # "fault -> outcome" -> times


def fuzzed(prop: str, exit_code: int | None) -> None:
    with _lock:
        FUZZ[prop] += 1
        FUZZ_OUTCOMES[f"{prop}: exit {exit_code}"] += 1


def fault(what: str, outcome: str, times: int = 1) -> None:
    with _lock:
        FAULTS[f"{what} -> {outcome}"] += times


def report() -> dict[str, object]:
    with _lock:
        return {
            "fuzzed_inputs_total": sum(FUZZ.values()),
            "fuzzed_inputs": dict(sorted(FUZZ.items())),
            "fuzz_outcomes": dict(sorted(FUZZ_OUTCOMES.items())),
            "faults_injected_total": sum(FAULTS.values()),
            "faults": dict(sorted(FAULTS.items())),
        }


def write(path: str | None = None) -> None:
    path = path or os.environ.get("TRUST_STATS_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(report(), fh, indent=2)
