"""`pip install .` (not only editable) must carry the rules, templates and schema inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_rules_templates_and_schema(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in (ROOT / "rules").glob("*.py"):
        assert f"rules/{rule_file.name}" in names
    for template in (ROOT / "reports" / "templates").iterdir():
        assert f"reports/templates/{template.name}" in names
    assert "auditor/report/schema/findings.schema.json" in names
    for data_file in (ROOT / "auditor").rglob("*"):
        if data_file.is_file() and data_file.suffix in (".json", ".yaml", ".typed"):
            assert data_file.relative_to(ROOT).as_posix() in names
    assert "auditor/cli.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "auditor = auditor.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(n.startswith("tests/") for n in names)
