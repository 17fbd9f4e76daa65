"""`pip install .` (not only editable) must carry the rules, templates and schema inside the wheel, under
import names no other distribution or working directory can shadow; moto stays out of the base install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    directory = tmp_path_factory.mktemp("wheel")
    # a clean copy, as a fresh clone: a stale build/ folder of the working tree must not leak into the wheel
    source = directory / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "out", "__pycache__", ".*_cache"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(directory), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = directory.glob("*.whl")
    return zipfile.ZipFile(built)


def _metadata(wheel: zipfile.ZipFile, name: str) -> str:
    return wheel.read(next(n for n in wheel.namelist() if n.endswith(f".dist-info/{name}"))).decode()


def test_wheel_contains_rules_templates_and_schema_under_unique_names(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    rule_files = list((ROOT / "rules").glob("*.py"))
    assert len(rule_files) > 5
    for rule_file in rule_files:
        assert f"auditor/rules/{rule_file.name}" in names
    for template in (ROOT / "reports" / "templates").iterdir():
        assert f"auditor/reports/templates/{template.name}" in names
    assert "auditor/report/schema/findings.schema.json" in names
    for data_file in (ROOT / "auditor").rglob("*"):
        if data_file.is_file() and data_file.suffix in (".json", ".yaml", ".typed"):
            assert data_file.relative_to(ROOT).as_posix() in names
    assert "auditor/cli.py" in names
    # nothing at the top level but our own package: no "rules" or "reports" to collide with another distribution
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"auditor"}
    assert "auditor = auditor.cli:main" in _metadata(wheel, "entry_points.txt")
    assert not any(n.startswith("tests/") for n in names)


def test_license_is_an_spdx_expression_and_moto_is_only_in_the_demo_extra(wheel: zipfile.ZipFile) -> None:
    metadata = _metadata(wheel, "METADATA").splitlines()
    assert "License-Expression: Apache-2.0" in metadata
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata if line.startswith("Requires-Dist: ")]
    moto = [r for r in requires if r.startswith("moto")]
    assert moto and all('extra == "demo"' in r or 'extra == "dev"' in r for r in moto)
    assert "Provides-Extra: demo" in metadata


def test_a_rules_folder_in_the_working_directory_does_not_replace_the_catalogue(tmp_path: Path) -> None:
    """`python -m auditor` puts the working directory first on sys.path: a stray rules/ or reports/ there
    must not shadow the built-in catalogue or the report templates."""
    for name in ("rules", "reports"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    listed = subprocess.run([sys.executable, "-m", "auditor", "rules", "list"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "ENV-001" in listed.stdout and "ADMIN-001" in listed.stdout


def test_no_built_in_rule_registered_is_a_loud_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import auditor.engine
    from auditor.cli import main

    (tmp_path / "empty_catalogue").mkdir()
    (tmp_path / "empty_catalogue" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(auditor.engine, "BUILTIN_RULES_PACKAGE", "empty_catalogue")
    with pytest.raises(SystemExit) as exit_info:
        main(["rules", "list"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "error: no built-in rule registered from empty_catalogue: the installation is broken; reinstall the "
        "auditor (pip install aws-org-auditor)\n")
    monkeypatch.setattr(auditor.engine, "BUILTIN_RULES_PACKAGE", "missing_catalogue")
    with pytest.raises(SystemExit) as exit_info:
        main(["rules", "list"])
    assert exit_info.value.code == 2 and "are not installed" in capsys.readouterr().err


def test_demo_without_moto_is_one_line_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from auditor.cli import main

    real_find_spec = importlib.util.find_spec
    monkeypatch.setitem(sys.modules, "moto", None)  # as on a production host: import moto fails
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "moto" else real_find_spec(name, *a))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path / "demo"), "--quiet"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""  # nothing announced before the error
    assert err.count("\n") == 1 and "pip install 'aws-org-auditor[demo]'" in err
