"""Benchmark: wildcard matching on adversarial patterns (a dozen stars against a 60-character name).

A backtracking regex (the earlier matcher) is exponential here; ``auditor.iam.glob`` is linear in the
ARN for each segment. Run: .venv/bin/python bench/bench_matcher.py (not part of the test suite).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.iam.glob import compile_pattern
from auditor.iam.policy import action_matches, arn_matches


def main() -> None:
    cases = [
        ("arn:aws:iam::*:role/" + "*a" * 12 + "*b", "arn:aws:iam::123456789012:role/" + "a" * 60),
        ("arn:aws:iam::*:role/" + "*a" * 30 + "*b", "arn:aws:iam::123456789012:role/" + "a" * 500),
        ("*?" * 40 + "x", "y" * 2000),
    ]
    for pattern, arn in cases:
        compile_pattern.cache_clear()
        start = time.perf_counter()
        for _ in range(1000):
            compile_pattern.cache_clear()
            arn_matches(pattern, arn)
        per_call = (time.perf_counter() - start) / 1000
        print(f"stars={pattern.count('*'):3d} text={len(arn):5d}  {per_call * 1e6:9.1f} us/match (compile included)")
    start = time.perf_counter()
    for _ in range(100_000):
        action_matches("s3:Get*", "s3:GetObject")
    print(f"action_matches s3:Get*         {(time.perf_counter() - start) * 1e6 / 100_000:9.2f} us/match (cached)")


if __name__ == "__main__":
    main()
