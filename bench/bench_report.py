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

    first_render(path)

    if args.all:
        started = time.perf_counter()
        written = write_reports(result, args.out, ("html", "json", "csv", "md"))
        print(f"write_reports (validation included): {time.perf_counter() - started:.2f} s")
        for name, written_path in written.items():
            print(f"  {name:<4} {written_path.stat().st_size / 1_000_000:8.1f} MB  {written_path}")


def first_render(path: Path) -> None:
    """Time from navigation to the first page of findings on screen, in Debian's headless Chromium."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("first render: skipped (playwright not installed)")
        return
    if not chromium.exists():
        print("first render: skipped (no /usr/bin/chromium)")
        return
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(path.as_uri(), wait_until="domcontentloaded", timeout=600_000)
        page.wait_for_selector("tr.finding-row", timeout=600_000)
        shown = time.perf_counter() - started
        started = time.perf_counter()
        page.fill("#search", "prod")
        page.locator("#result-count", has_text="filtered").wait_for(timeout=600_000)
        searched = time.perf_counter() - started
        browser.close()
    print(f"first render in Chromium: {shown:.2f} s to the first page of findings; first search {searched:.2f} s")


if __name__ == "__main__":
    main()
