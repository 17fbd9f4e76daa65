"""Report benchmark (not a test): render report.html (and the other formats) for a synthetic
organisation with 100,000 findings; print sizes and timings.

    .venv/bin/python bench/bench_report.py [--findings 100000] [--out /tmp/bench-report] [--all]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.report import render_html, validate_findings_document, write_reports
from tests.report_helpers import synthetic_result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-report"))
    parser.add_argument("--all", action="store_true", help="also time write_reports for html, json, csv, md")
    args = parser.parse_args()

    started = time.perf_counter()
    result = synthetic_result(args.findings, args.accounts)
    print(f"built {len(result.findings):,} findings in {len(result.accounts)} accounts "
          f"in {time.perf_counter() - started:.2f} s")

    started = time.perf_counter()
    document = result.findings_document()
    validate_findings_document(document)
    print(f"findings document + schema validation: {time.perf_counter() - started:.2f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    html = render_html(result, document)
    render_seconds = time.perf_counter() - started
    path = args.out / "report.html"
    path.write_text(html, encoding="utf-8")
    size_mb = path.stat().st_size / 1_000_000
    print(f"report.html: {size_mb:.1f} MB, rendered in {render_seconds:.2f} s -> {path}")

    if args.all:
        started = time.perf_counter()
        written = write_reports(result, args.out, ("html", "json", "csv", "md"))
        print(f"write_reports (validation included): {time.perf_counter() - started:.2f} s")
        for name, written_path in written.items():
            print(f"  {name:<4} {written_path.stat().st_size / 1_000_000:8.1f} MB  {written_path}")


if __name__ == "__main__":
    main()
