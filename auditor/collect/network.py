"""Collects one account's network settings for the CIS foundations controls, per region: security groups
and network ACLs with their rules, VPCs, the resources flow logs cover, and the instances that still accept
IMDSv1. Every read is a bulk, paginated Describe call; instances and their metadata options come from the
resource collector's DescribeInstances, not from a second read.
"""

from __future__ import annotations

from typing import Any

from auditor.collect.regional import per_region
from auditor.collect.session import ClientFactory, Gaps
from auditor.model import InstanceMetadataOptions, NetworkAcl, NetworkData, Resource, SecurityGroup, Vpc


def collect_network(
    factory: ClientFactory, regions: tuple[str, ...], partition: str, gaps: Gaps, resources: tuple[Resource, ...]
) -> NetworkData:
    """``resources`` carries the instances (and their metadata options) the resource collector read."""
    account = factory.account_id

    def arn(region: str, resource: str) -> str:
        return f"arn:{partition}:ec2:{region}:{account}:{resource}"

    def topology(region: str) -> tuple[list[SecurityGroup], list[NetworkAcl], list[Vpc]]:
        ec2 = factory.client("ec2", region)
        groups = [
            SecurityGroup(id=g["GroupId"], arn=arn(region, f"security-group/{g['GroupId']}"), region=region,
                          name=str(g.get("GroupName", "")), vpc_id=str(g.get("VpcId", "")),
                          ingress=tuple(g.get("IpPermissions", [])), egress=tuple(g.get("IpPermissionsEgress", [])))
            for page in _pages(ec2, "describe_security_groups") for g in page.get("SecurityGroups", [])
        ]
        acls = [
            NetworkAcl(id=a["NetworkAclId"], arn=arn(region, f"network-acl/{a['NetworkAclId']}"), region=region,
                       vpc_id=str(a.get("VpcId", "")), entries=tuple(a.get("Entries", [])))
            for page in _pages(ec2, "describe_network_acls") for a in page.get("NetworkAcls", [])
        ]
        vpcs = [Vpc(id=v["VpcId"], region=region, is_default=bool(v.get("IsDefault", False)))
                for page in _pages(ec2, "describe_vpcs") for v in page.get("Vpcs", [])]
        return groups, acls, vpcs

    def flow_logs(region: str) -> tuple[str, ...]:
        ec2 = factory.client("ec2", region)
        return tuple(sorted({str(f.get("ResourceId", "")) for page in _pages(ec2, "describe_flow_logs")
                             for f in page.get("FlowLogs", []) if f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"}))

    topologies = per_region(regions, topology, gaps, "ec2", "DescribeSecurityGroups")
    flows = per_region(regions, flow_logs, gaps, "ec2", "DescribeFlowLogs")
    return NetworkData(
        regions=tuple(r for r in regions if r in topologies),
        security_groups=tuple(g for r in regions for g in topologies.get(r, ([], [], []))[0]),
        network_acls=tuple(a for r in regions for a in topologies.get(r, ([], [], []))[1]),
        vpcs=tuple(v for r in regions for v in topologies.get(r, ([], [], []))[2]),
        flow_log_resource_ids=flows,
        imdsv1_instances=tuple(
            InstanceMetadataOptions(arn=r.arn, region=r.region, http_tokens=r.metadata_http_tokens or "optional",
                                    http_endpoint=r.metadata_http_endpoint or "enabled")
            for r in resources if r.type == "ec2:instance" and _accepts_imdsv1(r)),
    )


def _accepts_imdsv1(instance: Resource) -> bool:
    # An answer without MetadataOptions is AWS's default for instances launched before IMDSv2: both versions.
    return (instance.metadata_http_tokens or "optional") != "required" and \
        (instance.metadata_http_endpoint or "enabled") != "disabled"


def _pages(client: Any, operation: str, **params: Any) -> list[dict[str, Any]]:
    return list(client.get_paginator(operation).paginate(**params))
