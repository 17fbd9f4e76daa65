"""The CLI's typed options: flags are read by type once, and a value of another type is a declaration bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli_options import AnalysisOptions, CollectionFlags, Flags

ANALYSIS = {
    "out": None, "formats": ("html,json",), "config_path": Path("auditor.yaml"), "only_rules": ("EXT-002",),
    "skip_rules": (), "rules_dirs": (Path("extra"),), "history_path": None, "fail_on_new": False,
    "suppressions_path": None, "fail_on": "high", "quiet": True, "no_plan": False,
}
COLLECTION = {
    "profile": None, "region": "eu-west-1", "role_name": "SecurityAuditRole", "external_id": None,
    "regions": ("eu-west-1",), "accounts": (), "exclude_accounts": (), "concurrency": 8, "verbose": False,
    "log_file": None, "processes": 1, "executor": "local", "scheduler": None, "config_path": None, "quiet": False,
}


def test_analysis_options_read_every_flag_by_type() -> None:
    options = AnalysisOptions.read(Flags(ANALYSIS, frozenset()))
    assert options == AnalysisOptions(
        out=None, formats=("html,json",), config_path=Path("auditor.yaml"), only_rules=("EXT-002",), skip_rules=(),
        rules_dirs=(Path("extra"),), history_path=None, fail_on_new=False, suppressions_path=None, fail_on="high",
        quiet=True, force=False,
    )
    assert AnalysisOptions.read(Flags({**ANALYSIS, "force": True}, frozenset())).force is True
    # the isolation plan (issue 12 §3): --no-plan, and analyze's --what-if
    assert (options.plan, options.what_if) == (True, None)
    both = AnalysisOptions.read(Flags({**ANALYSIS, "no_plan": True, "what_if": Path("plan.json")}, frozenset()))
    assert (both.plan, both.what_if) == (False, Path("plan.json"))


def test_collection_flags_keep_which_were_given() -> None:
    flags = CollectionFlags.read(Flags(COLLECTION, frozenset({"region"})))
    assert (flags.region, flags.executor, flags.given) == ("eu-west-1", "local", frozenset({"region"}))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({**ANALYSIS, "quiet": "yes"}, "parameter 'quiet' is str, expected bool"),
        ({**ANALYSIS, "rules_dirs": ("extra",)}, "parameter 'rules_dirs' holds str, expected Path"),
        ({**ANALYSIS, "fail_on": "severe"}, "severity 'severe' is not one of critical, high, medium, low, info"),
    ],
    ids=["flag-as-text", "path-as-text", "unknown-severity"],
)
def test_a_value_of_another_type_is_an_error_not_a_wrong_answer(values: dict[str, object], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        AnalysisOptions.read(Flags(values, frozenset()))


def test_unknown_executor_is_an_error() -> None:
    with pytest.raises(TypeError, match="'executor' is 'ray'"):
        CollectionFlags.read(Flags({**COLLECTION, "executor": "ray"}, frozenset()))
