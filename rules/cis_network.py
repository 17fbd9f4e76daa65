"""CIS foundations, networking: network ACLs and security groups open to the internet (0.0.0.0/0 or ::/0) on
remote administration ports (SSH 22, RDP 3389) or CIFS (445), default security groups that allow traffic,
and instances that still accept IMDSv1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.engine import RuleContext, Undetermined, rule
from auditor.findings import Issue
from auditor.model import NetworkAcl, NetworkData, SecurityGroup

from ._cis import FOUNDATIONS, audited_with

ADMIN_PORTS = (22, 3389)
CIFS_PORTS = (445,)
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"
TCP, ALL = "6", "-1"


def _network(ctx: RuleContext) -> Iterator[tuple[str, NetworkData]]:
    for item in audited_with(ctx, lambda a: a.network, "network settings"):
        yield item[0].account_id, item[1]


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return {"tcp": TCP, "udp": "17", "icmp": "1", "all": ALL}.get(text, text)


def _sg_opens(permission: dict[str, Any], port: int) -> bool:
    protocol = _protocol(permission.get("IpProtocol", ""))
    if protocol == ALL:
        return True
    if protocol != TCP:
        return False
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None or (int(low) == -1 and int(high) == -1):
        return True
    return int(low) <= port <= int(high)


def _open_to_internet(group: SecurityGroup, ports: tuple[int, ...], ipv6: bool) -> list[int]:
    opened: set[int] = set()
    for permission in group.ingress:
        ranges = ([r.get("CidrIpv6") for r in permission.get("Ipv6Ranges", [])] if ipv6
                  else [r.get("CidrIp") for r in permission.get("IpRanges", [])])
        if (ANY_IPV6 if ipv6 else ANY_IPV4) not in ranges:
            continue
        opened.update(port for port in ports if _sg_opens(permission, port))
    return sorted(opened)


def _groups_open(ctx: RuleContext, ports: tuple[int, ...], ipv6: bool) -> Iterator[Issue | Undetermined]:
    source = ANY_IPV6 if ipv6 else ANY_IPV4
    for item in _network(ctx):
        account_id, network = item
        for group in network.security_groups:
            opened = _open_to_internet(group, ports, ipv6)
            if opened:
                yield Issue(
                    account_id=account_id, resource_arn=group.arn, region=group.region, key=f"{source}:{ports}",
                    message=f"Security group {group.id} ({group.name}) admits {source} to port(s) "
                    f"{', '.join(map(str, opened))}",
                    evidence={"source": source, "ports": opened, "vpc_id": group.vpc_id,
                              "ingress": list(group.ingress)},
                )


def _acl_entry_covers(entry: dict[str, Any], port: int) -> bool:
    protocol = _protocol(entry.get("Protocol", ""))
    if protocol == ALL:
        return True
    if protocol != TCP:
        return False
    ports = entry.get("PortRange")
    return ports is None or int(ports.get("From", 0)) <= port <= int(ports.get("To", 65535))


def _acl_open_ports(acl: NetworkAcl) -> list[int]:
    """Admin ports the internet reaches through this ACL: the lowest-numbered inbound entry for 0.0.0.0/0 (or
    ::/0) that covers the port decides, as AWS evaluates entries in rule-number order."""
    inbound = sorted((e for e in acl.entries if not e.get("Egress", False)), key=lambda e: int(e.get("RuleNumber", 0)))
    opened = []
    for port in ADMIN_PORTS:
        for entry in inbound:
            if entry.get("CidrBlock") != ANY_IPV4 and entry.get("Ipv6CidrBlock") != ANY_IPV6:
                continue
            if _acl_entry_covers(entry, port):
                if str(entry.get("RuleAction", "")).lower() == "allow":
                    opened.append(port)
                break
    return opened


@rule(
    id="CIS-NET-001",
    title="Network ACL admits the internet to admin ports",
    category="network-exposure",
    severity="medium",
    rationale="""A network ACL that allows 0.0.0.0/0 to SSH or RDP leaves a single security group rule between
    the internet and the servers' administration ports.""",
    remediation="""Add inbound deny entries for ports 22 and 3389 from 0.0.0.0/0 and ::/0 ahead of the allow
    entries (or allow only your administration networks).""",
    compliance={"CIS-AWS-3.0.0": ("5.1",), "AWS-FSBP": ("EC2.21",), "NIST-800-53": ("SC-7",),
                "ISO27001-2022": ("A.8.20",), "SOC2": ("CC6.6",)},
    inputs=("ec2", FOUNDATIONS),
)
def acl_open_admin_ports(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _network(ctx):
        account_id, network = item
        for acl in network.network_acls:
            opened = _acl_open_ports(acl)
            if opened:
                yield Issue(
                    account_id=account_id, resource_arn=acl.arn, region=acl.region,
                    message=f"Network ACL {acl.id} admits the internet to port(s) {', '.join(map(str, opened))}",
                    evidence={"ports": opened, "vpc_id": acl.vpc_id, "entries": list(acl.entries)},
                )


@rule(
    id="CIS-NET-002",
    title="Security group admits 0.0.0.0/0 to admin ports",
    category="network-exposure",
    severity="high",
    rationale="""SSH and RDP open to every IPv4 address are scanned and brute-forced within minutes.""",
    remediation="""Remove the rule; reach instances with Session Manager, or allow only your administration
    networks.""",
    compliance={"CIS-AWS-3.0.0": ("5.2",), "AWS-FSBP": ("EC2.13", "EC2.53"), "NIST-800-53": ("SC-7",),
                "ISO27001-2022": ("A.8.20",), "SOC2": ("CC6.6",)},
    inputs=("ec2", FOUNDATIONS),
)
def sg_open_admin_ipv4(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _groups_open(ctx, ADMIN_PORTS, ipv6=False)


@rule(
    id="CIS-NET-003",
    title="Security group admits ::/0 to admin ports",
    category="network-exposure",
    severity="high",
    rationale="""SSH and RDP open to every IPv6 address are as exposed as over IPv4, and easier to forget.""",
    remediation="""Remove the IPv6 rule; reach instances with Session Manager, or allow only your
    administration networks.""",
    compliance={"CIS-AWS-3.0.0": ("5.3",), "AWS-FSBP": ("EC2.54",), "NIST-800-53": ("SC-7",),
                "ISO27001-2022": ("A.8.20",), "SOC2": ("CC6.6",)},
    inputs=("ec2", FOUNDATIONS),
)
def sg_open_admin_ipv6(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _groups_open(ctx, ADMIN_PORTS, ipv6=True)


@rule(
    id="CIS-NET-004",
    title="Security group admits the internet to CIFS (445)",
    category="network-exposure",
    severity="high",
    rationale="""Windows file sharing exposed to the internet is a classic ransomware entry point.""",
    remediation="""Remove the rule and reach file shares over a VPN or private connectivity.""",
    compliance={"CIS-AWS-7.0.0": ("6.1.2",), "NIST-800-53": ("SC-7",), "ISO27001-2022": ("A.8.20",)},
    inputs=("ec2", FOUNDATIONS),
)
def sg_open_cifs(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _groups_open(ctx, CIFS_PORTS, ipv6=False)
    yield from _groups_open(ctx, CIFS_PORTS, ipv6=True)


@rule(
    id="CIS-NET-005",
    title="Default security group allows traffic",
    category="network-exposure",
    severity="low",
    rationale="""Resources launched without a chosen group land in the default one; any rule it holds applies
    to them silently.""",
    remediation="""Remove every inbound and outbound rule of each VPC's default security group and use
    purpose-built groups.""",
    compliance={"CIS-AWS-3.0.0": ("5.4",), "AWS-FSBP": ("EC2.2",), "NIST-800-53": ("SC-7",),
                "ISO27001-2022": ("A.8.20",)},
    inputs=("ec2", FOUNDATIONS),
)
def default_group_allows(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _network(ctx):
        account_id, network = item
        for group in network.security_groups:
            if group.name == "default" and (group.ingress or group.egress):
                yield Issue(
                    account_id=account_id, resource_arn=group.arn, region=group.region,
                    message=f"Default security group {group.id} of {group.vpc_id} has "
                    f"{len(group.ingress)} inbound and {len(group.egress)} outbound rules",
                    evidence={"vpc_id": group.vpc_id, "ingress": list(group.ingress), "egress": list(group.egress)},
                )


@rule(
    id="CIS-NET-006",
    title="Instance accepts IMDSv1",
    category="network-exposure",
    severity="medium",
    rationale="""IMDSv1 answers any request from the instance, so a server-side request forgery bug hands the
    instance role's credentials to the attacker; IMDSv2's session token stops that.""",
    remediation="""Require IMDSv2 (modify-instance-metadata-options --http-tokens required) and set the
    account default for new instances.""",
    compliance={"CIS-AWS-3.0.0": ("5.6",), "AWS-FSBP": ("EC2.8",), "NIST-800-53": ("CM-6",),
                "ISO27001-2022": ("A.8.20",)},
    inputs=("ec2", FOUNDATIONS),
)
def imdsv1_allowed(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _network(ctx):
        account_id, network = item
        for instance in network.imdsv1_instances:
            yield Issue(
                account_id=account_id, resource_arn=instance.arn, region=instance.region,
                message=f"Instance {instance.arn.split('/')[-1]} in {instance.region} accepts IMDSv1",
                evidence={"http_tokens": instance.http_tokens, "http_endpoint": instance.http_endpoint},
            )
