"""Typed options of the command line: each command's flags read once from click into a frozen object that the
rest of the CLI passes around (no dict of flags travels between functions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import click
from click.core import ParameterSource

from auditor.findings import Severity, severity_named

T = TypeVar("T")
Executor = Literal["local", "dask"]
_EXECUTORS: dict[str, Executor] = {"local": "local", "dask": "dask"}


@dataclass(frozen=True)
class Flags:
    """The parameters click parsed for one command, read by type: a value of another type is a mistake in the
    option's declaration, so it raises TypeError (an internal error), never a wrong answer."""

    values: Mapping[str, object]
    given: frozenset[str]  # the parameters set on the command line or by their environment variable

    @classmethod
    def of_current_command(cls, values: Mapping[str, object]) -> Flags:
        context = click.get_current_context()
        defaulted = (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
        return cls(values, frozenset(name for name in values if context.get_parameter_source(name) not in defaulted))

    def has(self, name: str) -> bool:
        return name in self.values

    def _of_type(self, name: str, kind: type[T]) -> T:
        value = self.values[name]
        if not isinstance(value, kind):
            raise TypeError(f"parameter {name!r} is {type(value).__name__}, expected {kind.__name__}")
        return value

    def flag(self, name: str) -> bool:
        return self._of_type(name, bool)

    def number(self, name: str) -> int:
        return self._of_type(name, int)

    def text(self, name: str) -> str:
        return self._of_type(name, str)

    def optional_text(self, name: str) -> str | None:
        return None if self.values[name] is None else self.text(name)

    def path(self, name: str) -> Path:
        return self._of_type(name, Path)

    def optional_path(self, name: str) -> Path | None:
        return None if self.values[name] is None else self._of_type(name, Path)

    def texts(self, name: str) -> tuple[str, ...]:
        """A ``multiple=True`` option's values as given (comma-separated lists are split by the command)."""
        return self._items(name, str)

    def paths(self, name: str) -> tuple[Path, ...]:
        return self._items(name, Path)

    def _items(self, name: str, kind: type[T]) -> tuple[T, ...]:
        items: list[T] = []
        for item in self._of_type(name, tuple):
            if not isinstance(item, kind):
                raise TypeError(f"parameter {name!r} holds {type(item).__name__}, expected {kind.__name__}")
            items.append(item)
        return tuple(items)

    def severity(self, name: str) -> Severity | None:
        value = self.optional_text(name)
        return None if value is None else severity_named(value)


@dataclass(frozen=True)
class AnalysisOptions:
    """The flags of every command that analyses and reports (audit, analyze, demo)."""

    out: Path | None  # None: the command's default place
    formats: tuple[str, ...]  # as given (repeated or comma-separated); checked against the registry when used
    config_path: Path | None
    only_rules: tuple[str, ...]
    skip_rules: tuple[str, ...]
    rules_dirs: tuple[Path, ...]
    history_path: Path | None
    fail_on_new: bool
    suppressions_path: Path | None
    fail_on: Severity | None
    quiet: bool
    force: bool = False  # replace a snapshot directory that is not an earlier snapshot (audit, demo)
    plan: bool = True  # compute the isolation plan and write plan.json (--no-plan: skip it)
    what_if: Path | None = None  # analyze --what-if plan.json

    @classmethod
    def read(cls, flags: Flags) -> AnalysisOptions:
        return cls(
            out=flags.optional_path("out"),
            formats=flags.texts("formats"),
            config_path=flags.optional_path("config_path"),
            only_rules=flags.texts("only_rules"),
            skip_rules=flags.texts("skip_rules"),
            rules_dirs=flags.paths("rules_dirs"),
            history_path=flags.optional_path("history_path"),
            fail_on_new=flags.flag("fail_on_new"),
            suppressions_path=flags.optional_path("suppressions_path"),
            fail_on=flags.severity("fail_on"),
            quiet=flags.flag("quiet"),
            force=flags.flag("force") if flags.has("force") else False,
            plan=not flags.flag("no_plan"),
            what_if=flags.optional_path("what_if") if flags.has("what_if") else None,
        )


@dataclass(frozen=True)
class CollectionFlags:
    """The collection flags (audit, collect, check-access) as given, before auditor.yaml fills what was not
    given on the command line (``given``)."""

    profile: str | None
    region: str | None
    role_name: str
    external_id: str | None
    regions: tuple[str, ...]
    accounts: tuple[str, ...]
    exclude_accounts: tuple[str, ...]
    concurrency: int
    verbose: bool
    log_file: Path | None
    processes: int
    executor: Executor
    scheduler: str | None
    config_path: Path | None
    quiet: bool
    resume: bool = False  # keep the shards an interrupted collection into the same --out completed (issue 14)
    given: frozenset[str] = frozenset()

    @classmethod
    def read(cls, flags: Flags) -> CollectionFlags:
        executor = flags.text("executor")
        if executor not in _EXECUTORS:
            raise TypeError(f"parameter 'executor' is {executor!r}, expected one of {', '.join(_EXECUTORS)}")
        return cls(
            profile=flags.optional_text("profile"),
            region=flags.optional_text("region"),
            role_name=flags.text("role_name"),
            external_id=flags.optional_text("external_id"),
            regions=flags.texts("regions"),
            accounts=flags.texts("accounts"),
            exclude_accounts=flags.texts("exclude_accounts"),
            concurrency=flags.number("concurrency"),
            verbose=flags.flag("verbose"),
            log_file=flags.optional_path("log_file"),
            processes=flags.number("processes"),
            executor=_EXECUTORS[executor],
            scheduler=flags.optional_text("scheduler"),
            config_path=flags.optional_path("config_path"),
            quiet=flags.flag("quiet"),
            resume=flags.flag("resume") if flags.has("resume") else False,
            given=flags.given,
        )
