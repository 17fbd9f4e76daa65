"""Benchmark: the isolation plan of bench_graph's synthetic organisation (200 accounts, 20,000 principals):
the cut on the access graph, then the re-analysis of each step, printing time, steps and peak memory.

Run: .venv/bin/python bench/bench_plan.py [--accounts 200] [--principals-per-account 100] [--cut-only]
     [--snapshot DIR]  (e.g. DIR written by bench/synth_org.py --accounts 200 --out DIR)
(not part of the test suite).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.config import AuditorConfig, EnvironmentConfig
from auditor.environment import classify_accounts
from auditor.graph import build_access_graph
from auditor.plan.cut import plan_cut
from auditor.plan.isolation import analyze_with_plan
from auditor.plan.model import PlanModel
from auditor.snapshot import read_snapshot
from bench.bench_graph import synthetic_snapshot, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--principals-per-account", type=int, default=100)
    parser.add_argument("--cut-only", action="store_true", help="time the cut on the graph, not the re-analysis")
    parser.add_argument("--snapshot", type=Path, default=None,
                        help="plan this snapshot directory instead (e.g. one bench/synth_org.py wrote)")
    args = parser.parse_args()
    if args.snapshot is not None:
        snap = timed("read snapshot", lambda: read_snapshot(args.snapshot))
        config = AuditorConfig()
        envs = {k: v.environment for k, v in classify_accounts(snap, config).items()}
    else:
        snap, envs = timed("synthetic snapshot",
                           lambda: synthetic_snapshot(args.accounts, args.principals_per_account))
        config = AuditorConfig(environments=EnvironmentConfig(accounts=envs))
    print(f"{len(snap.accounts)} accounts; environments: "
          f"{', '.join(f'{e} {n}' for e, n in sorted(Counter(envs.values()).items()))}")
    gc.collect()
    graph = timed("build_access_graph", lambda: build_access_graph(snap, envs))
    cut = timed("plan cut (graph only)", partial(plan_cut, PlanModel(snap, graph), envs))
    print(f"cut: {len(cut.changes)} changes, cost {cut.cost / 10:g}, pairs {cut.pairs_before} -> {cut.pairs_after}, "
          f"{len(cut.uncut)} uncuttable edges")
    for change in cut.changes:
        print(f"  {change.kind} {change.fields().get('target_id') or change.fields()}"[:160])
    del graph
    gc.collect()
    if not args.cut_only:
        now = datetime.now(UTC)
        result = timed("analyze + plan (re-analysis)", lambda: analyze_with_plan(snap, config, now=now))
        plan = result.plan
        assert plan is not None
        print(f"plan: {len(plan.steps)} steps, cost {plan.cost / 10:g}, paths {plan.paths_before} -> "
              f"{plan.paths_after}, {sum(len(s.closes) for s in plan.steps)} findings closed, "
              f"{len(result.findings)} findings before, {len(plan.remaining)} remaining")
        for step in plan.steps:
            print(f"  {step.rank:>3}. {step.description[:140]} (cuts {step.paths_cut}, closes {len(step.closes)})")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
