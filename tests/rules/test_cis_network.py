"""CIS foundations, networking (rules/cis_network.py): CIS-NET-001..006. The account of tests/rules/cis_snapshot.py
passes them all (HTTPS open to the internet, SSH from a private range, an ACL denying admin ports before its
allow-all entry, an empty default group); each risky case changes one rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.model import InstanceMetadataOptions, Snapshot
from tests.rules.cis_snapshot import ACL_ARN, REGION, SG_ARN, change, compliant, compliant_account
from tests.rules.helpers import arns, run_rule, undetermined

INSTANCE = f"arn:aws:ec2:{REGION}:{compliant_account().account_id}:instance/i-0a1b"


def _ingress(*permissions: dict[str, Any]) -> Snapshot:
    network = compliant_account().network
    assert network is not None
    groups = tuple(g.model_copy(update={"ingress": (*g.ingress, *permissions)}) if g.name == "web" else g
                   for g in network.security_groups)
    return change(network={"security_groups": groups})


def _acl_allows(port: int, rule_number: int = 5) -> Snapshot:
    network = compliant_account().network
    assert network is not None
    acl = network.network_acls[0]
    entry = {"RuleNumber": rule_number, "Protocol": "6", "RuleAction": "allow", "Egress": False,
             "CidrBlock": "0.0.0.0/0", "PortRange": {"From": port, "To": port}}
    return change(network={"network_acls": (acl.model_copy(update={"entries": (*acl.entries, entry)}),)})


def _default_group_open() -> Snapshot:
    network = compliant_account().network
    assert network is not None
    groups = tuple(g.model_copy(update={"egress": ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},)})
                   if g.name == "default" else g for g in network.security_groups)
    return change(network={"security_groups": groups})


def _tcp(port: int, ipv4: str | None = "0.0.0.0/0", ipv6: str | None = None) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": ipv4}] if ipv4 else [], "Ipv6Ranges": [{"CidrIpv6": ipv6}] if ipv6 else []}


CASES: list[tuple[str, Callable[[], Snapshot], set[str]]] = [
    ("CIS-NET-001", lambda: _acl_allows(3389), {ACL_ARN}),
    ("CIS-NET-002", lambda: _ingress(_tcp(22)), {SG_ARN}),
    ("CIS-NET-003", lambda: _ingress(_tcp(3389, ipv4=None, ipv6="::/0")), {SG_ARN}),
    ("CIS-NET-004", lambda: _ingress(_tcp(445)), {SG_ARN}),
    ("CIS-NET-005", _default_group_open, {f"arn:aws:ec2:{REGION}:{compliant_account().account_id}:"
                                          "security-group/sg-default"}),
    ("CIS-NET-006", lambda: change(network={"imdsv1_instances": (InstanceMetadataOptions(arn=INSTANCE,
                                                                                          region=REGION),)}),
     {INSTANCE}),
]


@pytest.mark.parametrize(("rule_id", "risky", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires_on_the_change_and_not_on_the_compliant_twin(
    rule_id: str, risky: Callable[[], Snapshot], expected: set[str]
) -> None:
    assert arns(run_rule(rule_id, risky())) == expected
    assert run_rule(rule_id, compliant()) == []
    assert undetermined(rule_id, compliant()) == []


@pytest.mark.parametrize(
    ("permission", "opened"),
    [
        ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, [22, 3389]),  # all traffic
        ({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, [22, 3389]),
        ({"IpProtocol": "udp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, []),
        (_tcp(3389, ipv4="192.0.2.0/24"), []),  # a narrow source
    ],
)
def test_cis_net_002_port_ranges_and_protocols(permission: dict[str, Any], opened: list[int]) -> None:
    findings = run_rule("CIS-NET-002", _ingress(permission))
    assert [f.evidence["ports"] for f in findings] == ([opened] if opened else [])


def test_cis_net_001_the_lowest_numbered_entry_decides() -> None:
    assert run_rule("CIS-NET-001", _acl_allows(22, rule_number=50)) == []  # after the deny at 10
    assert [f.evidence["ports"] for f in run_rule("CIS-NET-001", _acl_allows(22, rule_number=5))] == [[22]]
