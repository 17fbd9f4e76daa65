"""Benchmark: analysis of synthetic organisations of 200, 1,000 and 2,000 accounts (``bench/synth_org.py``: about
30 principals each, cross-account trusts, real AWS managed policy documents, no moto), with wall time, CPU and
peak RSS per phase, and the growth exponent of each (the slope of log(cost) against log(accounts)).

Each size runs in a fresh child process, so that its ``ru_maxrss`` is its own. Snapshots are generated once into
``--cache`` and reused.

Run: .venv/bin/python bench/bench_scale.py [--sizes 200,1000,2000] [--cache /tmp/auditor-synth] [--formats json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def analyse_in_this_process(snapshot_dir: Path, out: Path, formats: tuple[str, ...]) -> dict[str, Any]:
    """The phases of ``auditor analyze``, each with its wall time, CPU time and the peak RSS reached so far."""
    from auditor.analyze import analyze
    from auditor.config import AuditorConfig
    from auditor.report import write_reports
    from auditor.snapshot import read_snapshot

    phases: list[dict[str, Any]] = []
    state: dict[str, Any] = {}

    def phase(name: str, run: Any) -> None:
        start, cpu = time.perf_counter(), time.process_time()
        state[name] = run()
        phases.append({"phase": name, "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                       "peak_rss_mib": _rss_mib()})

    baseline = _rss_mib()
    phase("read", lambda: read_snapshot(snapshot_dir))
    phase("analyze", lambda: analyze(state["read"], AuditorConfig()))
    phase("report", lambda: write_reports(state["analyze"], out, formats))
    snapshot, result = state["read"], state["analyze"]
    principals = sum(len(a.iam.users) + len(a.iam.roles) for a in snapshot.accounts if a.iam)
    return {
        "accounts": len(snapshot.accounts),
        "principals": principals,
        "findings": len(result.findings),
        "coverage": len(result.coverage),
        "baseline_rss_mib": baseline,
        "phases": phases,
        "report_bytes": sum(p.stat().st_size for p in out.iterdir() if p.is_file()),
    }


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log(y) against log(x): cost grows as accounts ** slope."""
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200,1000,2000", help="comma-separated account counts")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "auditor-synth")
    parser.add_argument("--formats", default="html,json,csv", help="report formats written in the report phase")
    parser.add_argument("--inline", action="store_true",
                        help="snapshots with every AWS managed document inline in every shard (the pre-1.2 layout)")
    parser.add_argument("--child", nargs=2, metavar=("SNAPSHOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    formats = tuple(f for f in args.formats.split(",") if f)
    if args.child:
        print(json.dumps(analyse_in_this_process(Path(args.child[0]), Path(args.child[1]), formats)))
        return

    from bench.synth_org import SyntheticOrg, write

    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    rows: list[dict[str, Any]] = []
    for size in sizes:
        snapshot_dir = args.cache / f"accounts-{size}{'-inline' if args.inline else ''}"
        if not (snapshot_dir / "manifest.json").exists():
            start = time.perf_counter()
            write(SyntheticOrg(size), snapshot_dir, args.inline)
            print(f"generated {size} accounts in {time.perf_counter() - start:.1f} s")
        disk = sum(p.stat().st_size for p in snapshot_dir.rglob("*") if p.is_file())
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            child = subprocess.run(
                [sys.executable, __file__, "--formats", ",".join(formats), "--child", str(snapshot_dir), out],
                capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
        if child.returncode != 0:
            sys.exit(f"{size} accounts: the analysis failed:\n{child.stderr[-3000:]}")
        row = json.loads(child.stdout.strip().splitlines()[-1])
        row.update(size=size, wall=wall, snapshot_mib=disk / 2**20, load=os.getloadavg()[0])
        rows.append(row)
        phases = "  ".join(f"{p['phase']} {p['wall']:.1f} s/{p['peak_rss_mib']:.0f} MiB" for p in row["phases"])
        print(f"{size:>6} accounts  {row['principals']:>7} principals  snapshot {row['snapshot_mib']:.0f} MiB  "
              f"wall {wall:6.1f} s  cpu {sum(p['cpu'] for p in row['phases']):6.1f} s  "
              f"peak RSS {row['phases'][-1]['peak_rss_mib']:6.0f} MiB  findings {row['findings']}  "
              f"load {row['load']:.1f}\n        {phases}")
    if len(rows) >= 2:
        xs = [float(r["size"]) for r in rows]
        print("growth exponent (cost ~ accounts^k):")
        print(f"  wall k={_slope(xs, [r['wall'] for r in rows]):.2f}  "
              f"cpu k={_slope(xs, [sum(p['cpu'] for p in r['phases']) for r in rows]):.2f}  "
              f"peak RSS k={_slope(xs, [r['phases'][-1]['peak_rss_mib'] for r in rows]):.2f}  "
              f"peak RSS above the interpreter k="
              f"{_slope(xs, [r['phases'][-1]['peak_rss_mib'] - r['baseline_rss_mib'] for r in rows]):.2f}")
        for index, name in enumerate(p["phase"] for p in rows[0]["phases"]):
            print(f"  {name:<8} wall k={_slope(xs, [r['phases'][index]['wall'] for r in rows]):.2f}")


if __name__ == "__main__":
    main()
