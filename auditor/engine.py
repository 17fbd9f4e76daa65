"""The rule engine: rules register themselves with ``@rule``, are discovered by importing the
``rules`` package (and any ``--rules-dir``), are validated when they load, and run over one context.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.config import AuditorConfig
from auditor.environment import EnvironmentInfo
from auditor.errors import UserError
from auditor.findings import CATEGORIES, SEVERITIES, Finding, Issue, finding_id, sort_findings
from auditor.model import CoverageGap, Snapshot
from auditor.result import RuleInfo

if TYPE_CHECKING:
    from auditor.graph import AccessGraph

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d{3}$")


@dataclass
class RuleContext:
    """What a rule may read: the snapshot, the environments, the access graph and the config."""

    snapshot: Snapshot
    config: AuditorConfig
    environments: dict[str, EnvironmentInfo]
    graph: AccessGraph
    now: datetime
    _cache: dict[str, Any] = field(default_factory=dict)

    def environment(self, account_id: str | None) -> str:
        if account_id is None:
            return "external"
        info = self.environments.get(account_id)
        return info.environment if info else "unknown"

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        """Share an expensive computation between rules of one run."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


@dataclass(frozen=True)
class Undetermined:
    """What a check yields when it cannot decide for an account (its evidence lies outside the snapshot):
    the engine records it as a coverage gap, so the account's compliance controls do not pass."""

    account_id: str
    message: str
    region: str = "global"


Check = Callable[[RuleContext], Iterable[Issue | Undetermined]]


@dataclass(frozen=True)
class Rule(RuleInfo):
    """A rule's metadata plus its check and the module that defines it."""

    check: Check = field(kw_only=True)
    module: str = field(kw_only=True)

    def info(self) -> RuleInfo:
        """The metadata alone, as reports need it."""
        return RuleInfo(**{f.name: getattr(self, f.name) for f in fields(RuleInfo)})


class RuleDefinitionError(UserError):
    """A rule whose metadata is invalid; raised when the rule loads."""


_REGISTRY: dict[str, Rule] = {}


def _validate(meta: dict[str, Any], where: str) -> None:
    rule_id = meta["id"]
    if not RULE_ID.match(rule_id):
        raise RuleDefinitionError(
            f"{where}: rule id {rule_id!r} must look like ENV-001 (letters, dash, 3 digits)"
        )
    if meta["category"] not in CATEGORIES:
        raise RuleDefinitionError(
            f"{where}: rule {rule_id}: category {meta['category']!r} is not one of {', '.join(CATEGORIES)}"
        )
    if meta["severity"] not in SEVERITIES:
        raise RuleDefinitionError(
            f"{where}: rule {rule_id}: severity {meta['severity']!r} is not one of {', '.join(SEVERITIES)}"
        )
    for key in ("title", "rationale", "remediation"):
        if not str(meta[key]).strip():
            raise RuleDefinitionError(f"{where}: rule {rule_id}: {key} must not be empty")
    from auditor.compliance import validate_mapping

    problem = validate_mapping(meta["compliance"])
    if problem:
        raise RuleDefinitionError(f"{where}: rule {rule_id}: {problem}")


def rule(
    *,
    id: str,
    title: str,
    category: str,
    severity: str,
    rationale: str,
    remediation: str,
    compliance: Mapping[str, Iterable[str]] | None = None,
    inputs: Iterable[str] = (),
) -> Callable[[Check], Check]:
    """Register a check function as a rule, validating its metadata at import time.

    ``inputs`` names the collected services the rule reads (see ``RuleInfo.inputs``); CIS ids of one version
    are completed with the other versions' ids through the crosswalk (``auditor.compliance``)."""

    def register(check: Check) -> Check:
        where = f"{check.__module__}.{check.__name__}"
        mapping = {framework: tuple(ids) for framework, ids in (compliance or {}).items()}
        meta: dict[str, Any] = {
            "id": id,
            "title": title,
            "category": category,
            "severity": severity,
            "rationale": " ".join(rationale.split()),
            "remediation": " ".join(remediation.split()),
            "compliance": mapping,
        }
        _validate(meta, where)
        from auditor.compliance import expand_mapping

        meta["compliance"] = expand_mapping(mapping)
        meta["inputs"] = tuple(inputs)
        existing = _REGISTRY.get(id)
        if existing is not None and existing.module != check.__module__:
            raise RuleDefinitionError(f"{where}: rule id {id} is already defined in {existing.module}")
        _REGISTRY[id] = Rule(check=check, module=check.__module__, **meta)
        return check

    return register


BUILTIN_RULES_PACKAGE = "auditor.rules"  # the repository's rules/ folder, installed under this name


def _import_builtin_rules() -> None:
    """Import the built-in catalogue; an installation where it registers no rule is broken, and says so
    (an empty catalogue would report a clean organisation)."""
    try:
        _import_package(BUILTIN_RULES_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name is None or not BUILTIN_RULES_PACKAGE.startswith(exc.name):
            raise
        raise UserError(f"the built-in rules ({BUILTIN_RULES_PACKAGE}) are not installed: reinstall the "
                        "auditor (pip install aws-org-auditor)") from None
    if not any(r.check.__module__.startswith(f"{BUILTIN_RULES_PACKAGE}.") for r in _REGISTRY.values()):
        raise UserError(f"no built-in rule registered from {BUILTIN_RULES_PACKAGE}: the installation is broken; "
                        "reinstall the auditor (pip install aws-org-auditor)")


def _import_package(package_name: str) -> None:
    package = importlib.import_module(package_name)
    for module in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
        importlib.import_module(module.name)


def _import_directory(directory: Path) -> None:
    if not directory.is_dir():
        raise UserError(f"rules directory {directory} does not exist")
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"auditor_user_rules.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise UserError(f"cannot load rule file {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except UserError:
            raise
        except Exception as exc:  # a user's rule file: report its error in one line, not a traceback
            raise UserError(f"rule file {path} failed to load: {type(exc).__name__}: {exc}") from None


def load_rules(
    rules_dirs: Iterable[Path] = (),
    only: Iterable[str] = (),
    skip: Iterable[str] = (),
) -> list[Rule]:
    """Every registered rule (built-in and from ``rules_dirs``), filtered by ``only``/``skip`` ids."""
    _import_builtin_rules()
    for directory in rules_dirs:
        _import_directory(directory)
    only_set, skip_set = set(only), set(skip)
    unknown = sorted((only_set | skip_set) - set(_REGISTRY))
    if unknown:
        raise UserError(f"unknown rule id(s): {', '.join(unknown)} (see `auditor rules list`)")
    selected = [r for r in _REGISTRY.values() if (not only_set or r.id in only_set) and r.id not in skip_set]
    return sorted(selected, key=lambda r: r.id)


def run_rules(rules: Iterable[Rule], context: RuleContext) -> tuple[list[Finding], list[CoverageGap]]:
    """Run every rule; a rule that fails becomes a coverage gap, never a silent hole or a crash."""
    findings: dict[str, Finding] = {}
    gaps: list[CoverageGap] = []
    for current in rules:
        try:
            for issue in current.check(context):
                if isinstance(issue, Undetermined):
                    gaps.append(CoverageGap(account_id=issue.account_id, service="auditor", region=issue.region,
                                            operation=f"rule {current.id}", error_code="Undetermined",
                                            message=issue.message))
                    continue
                finding = _finding(current, issue, context)
                findings.setdefault(finding.id, finding)
        except Exception as exc:  # one broken rule must not hide the others' findings
            last = traceback.extract_tb(exc.__traceback__)[-1]
            gaps.append(
                CoverageGap(
                    account_id="*",
                    service="auditor",
                    operation=f"rule {current.id}",
                    error_code=type(exc).__name__,
                    message=f"{exc} (at {Path(last.filename).name}:{last.lineno})",
                )
            )
    return sort_findings(list(findings.values())), gaps


def _finding(current: Rule, issue: Issue, context: RuleContext) -> Finding:
    return Finding(
        id=finding_id(current.id, issue.account_id, issue.resource_arn, issue.key),
        rule_id=current.id,
        title=current.title,
        severity=issue.severity or current.severity,  # type: ignore[arg-type]
        category=current.category,  # type: ignore[arg-type]
        account_id=issue.account_id,
        region=issue.region,
        resource_arn=issue.resource_arn,
        environment=context.environment(issue.account_id) if issue.account_id else "unknown",
        message=issue.message,
        evidence=issue.evidence,
        path=issue.path,
        remediation=current.remediation,
        compliance=current.compliance,
    )
