"""CIS foundations, monitoring (rules/cis_monitoring.py): CIS-MON-001..015 (a metric filter, an alarm and a
subscribed topic per watched event family of auditor/monitoring_watches.py) and CIS-MON-016 (Security Hub).
The account of tests/rules/cis_snapshot.py passes them all; each risky case removes one link of the chain."""

from __future__ import annotations

import pytest

from auditor.engine import load_rules
from auditor.model import Snapshot
from auditor.monitoring_watches import WATCHES
from tests.rules.cis_snapshot import ACCOUNT_ARN, REGION, TOPIC, change, compliant, compliant_account
from tests.rules.helpers import arns, run_rule, undetermined

# One rule per watched family; named here so that each has a test of its own.
WATCHED = {
    "CIS-MON-001": "4.1", "CIS-MON-002": "4.2", "CIS-MON-003": "4.3", "CIS-MON-004": "4.4", "CIS-MON-005": "4.5",
    "CIS-MON-006": "4.6", "CIS-MON-007": "4.7", "CIS-MON-008": "4.8", "CIS-MON-009": "4.9", "CIS-MON-010": "4.10",
    "CIS-MON-011": "4.11", "CIS-MON-012": "4.12", "CIS-MON-013": "4.13", "CIS-MON-014": "4.14",
    "CIS-MON-015": "4.15",
}


def test_every_watch_is_a_rule_named_here() -> None:
    assert {f"CIS-MON-{w.number:03d}": w.cis_v3 for w in WATCHES} == WATCHED
    assert {r.id for r in load_rules() if r.module.endswith(".cis_monitoring")} == {*WATCHED, "CIS-MON-016"}


def _without(link: str, number: int) -> Snapshot:
    """The compliant account without the filter (or alarm, or subscriber) of watch ``number``."""
    logging = compliant_account().logging
    assert logging is not None
    if link == "filter":
        return change(logging={"metric_filters": tuple(f for f in logging.metric_filters if f.name != f"cis-{number}")})
    if link == "alarm":
        return change(logging={"alarms": tuple(a for a in logging.alarms if a.name != f"cis-{number}")})
    return change(logging={"topics": ()})


@pytest.mark.parametrize("rule_id", sorted(WATCHED))
def test_a_watch_without_its_filter_is_a_finding_and_with_it_none(rule_id: str) -> None:
    number = int(rule_id[-3:])
    (finding,) = run_rule(rule_id, _without("filter", number))
    assert (finding.resource_arn, finding.evidence["examined"][0]["matching_filters"]) == (ACCOUNT_ARN, [])
    assert run_rule(rule_id, compliant()) == []
    assert undetermined(rule_id, compliant()) == []


@pytest.mark.parametrize("link", ["alarm", "topic"])
def test_an_alarm_and_a_subscribed_topic_are_needed_too(link: str) -> None:
    assert arns(run_rule("CIS-MON-003", _without(link, 3))) == {ACCOUNT_ARN}
    assert run_rule("CIS-MON-004", _without("alarm", 3)) == []  # the other watches keep their alarms


def test_a_filter_on_another_log_group_does_not_count() -> None:
    logging = compliant_account().logging
    assert logging is not None
    elsewhere = tuple(f.model_copy(update={"log_group_name": "app-logs"}) if f.name == "cis-2" else f
                      for f in logging.metric_filters)
    assert arns(run_rule("CIS-MON-002", change(logging={"metric_filters": elsewhere}))) == {ACCOUNT_ARN}


def test_a_disabled_alarm_does_not_count() -> None:
    logging = compliant_account().logging
    assert logging is not None
    alarms = tuple(a.model_copy(update={"actions_enabled": False}) if a.name == "cis-5" else a
                   for a in logging.alarms)
    assert arns(run_rule("CIS-MON-005", change(logging={"alarms": alarms}))) == {ACCOUNT_ARN}
    assert TOPIC in logging.alarms[0].alarm_actions


def test_cis_mon_016_security_hub() -> None:
    (finding,) = run_rule("CIS-MON-016", change(logging={"security_hub": {REGION: False}}))
    assert (finding.resource_arn, finding.region) == (ACCOUNT_ARN, REGION)
    assert run_rule("CIS-MON-016", compliant()) == []
