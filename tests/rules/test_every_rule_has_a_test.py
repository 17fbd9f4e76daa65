"""Every built-in rule has a test of its own: its id named in ``tests/rules/test_<family>.py`` (``<family>`` the
rule's module in ``rules/``), a module that runs rules through ``run_rule``. A new rule without one fails here."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from auditor.engine import BUILTIN_RULES_PACKAGE, Rule, RuleContext, load_rules
from auditor.findings import Issue

HERE = Path(__file__).resolve().parent
HOW = ("write its risky case and benign twin with run_rule(rule_id, snapshot) in the family's module "
       "(see tests/rules/helpers.py)")


def _rule_ids_tested(path: Path) -> set[str]:
    """The string constants of a test module that runs rules through ``run_rule`` (none if it does not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if "run_rule" not in names and "assert_risky_and_benign" not in names:
        return set()
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def untested(rules: Iterable[Rule], test_dir: Path) -> list[str]:
    """'RULE-ID (tests/rules/test_family.py)' for every built-in rule whose family module does not name it."""
    tested: dict[str, set[str]] = {}
    missing = []
    for current in rules:
        package, _, family = current.module.rpartition(".")
        if package != BUILTIN_RULES_PACKAGE:
            continue  # --rules-dir rules are their authors'
        path = test_dir / f"test_{family}.py"
        if family not in tested:
            tested[family] = _rule_ids_tested(path) if path.exists() else set()
        if current.id not in tested[family]:
            missing.append(f"{current.id} (tests/rules/{path.name})")
    return sorted(missing)


def test_every_builtin_rule_is_named_in_its_family_test_module() -> None:
    missing = untested(load_rules(), HERE)
    assert not missing, f"rules without a test of their own: {', '.join(missing)}; {HOW}"


def test_every_family_test_module_belongs_to_a_rule_family() -> None:
    families = {r.module.rpartition(".")[2] for r in load_rules() if r.module.startswith(f"{BUILTIN_RULES_PACKAGE}.")}
    modules = {p.stem.removeprefix("test_") for p in HERE.glob("test_*.py")} - {"every_rule_has_a_test"}
    assert modules <= families, f"tests/rules/ modules without a rules/ family: {sorted(modules - families)}"


def _fake_rule(rule_id: str, family: str) -> Rule:
    def check(_: RuleContext) -> list[Issue]:
        return []

    check.__module__ = f"{BUILTIN_RULES_PACKAGE}.{family}"
    return Rule(id=rule_id, title="t", category="guardrails", severity="low", rationale="r", remediation="m",
                compliance={}, inputs=(), check=check, module=check.__module__)  # never registered


def test_the_check_fails_for_a_rule_without_a_test(tmp_path: Path) -> None:
    rules = [_fake_rule("FAKE-001", "fakes"), _fake_rule("FAKE-002", "fakes"), _fake_rule("FAKE-003", "others")]
    (tmp_path / "test_fakes.py").write_text(
        "from tests.rules.helpers import run_rule\n\n"
        "def test_fake_001() -> None:\n    assert run_rule('FAKE-001', snapshot) == []\n"
        "# FAKE-002 named in a comment only does not count\n")
    assert untested(rules, tmp_path) == ["FAKE-002 (tests/rules/test_fakes.py)",
                                         "FAKE-003 (tests/rules/test_others.py)"]
    (tmp_path / "test_others.py").write_text("def test_fake_003() -> None:\n    assert 'FAKE-003'\n")
    assert "FAKE-003 (tests/rules/test_others.py)" in untested(rules, tmp_path)  # not run through run_rule
