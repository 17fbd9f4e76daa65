"""Compliance frameworks and their controls, as data. Rules map to these ids; reports group by them.

The CIS AWS Foundations Benchmark is kept as one crosswalk table: each row is one recommendation with its
id in v3.0.0 and in v7.0.0 (v4 to v7 renumbered the IAM section and moved whole sections), whether CIS
calls it automated in each version, and whether it is judged per region. A rule maps to a CIS v3.0.0 id
and gets the v7.0.0 id through the crosswalk (``expand_mapping``); controls new in v7.0.0 are mapped
directly. Ids and assessment status are CIS's (as published in Prowler's compliance catalogue, whose
facts we reuse); the titles are our own short wording.

A control no rule maps to is "manual": a person must review it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CIS_V3 = "CIS-AWS-3.0.0"
CIS_V7 = "CIS-AWS-7.0.0"
WELL_ARCHITECTED_COST = "AWS-WA-COST"


@dataclass(frozen=True)
class CisControl:
    """One CIS recommendation across versions; an id of None means the version does not have it."""

    v3: str | None
    v7: str | None
    title: str
    automated_v3: bool
    automated_v7: bool
    regional: bool = False  # judged in every region of the account (a gap in one region blocks a pass)

    def id_in(self, framework: str) -> str | None:
        return {CIS_V3: self.v3, CIS_V7: self.v7}.get(framework)

    def automated_in(self, framework: str) -> bool:
        return {CIS_V3: self.automated_v3, CIS_V7: self.automated_v7}.get(framework, False)


_C = CisControl
CIS_CONTROLS: tuple[CisControl, ...] = (
    # --- organisation (v7.0.0 only) ---
    _C(None, "2.1.1", "Root credentials are managed centrally by AWS Organizations", False, False),
    _C(None, "2.1.2", "Authorization guardrails (SCPs, RCPs) cover every account", False, False),
    _C(None, "2.1.3", "The management account runs no workloads", False, False),
    _C(None, "2.1.4", "Organizational units separate environments and sensitivity", False, False),
    _C(None, "2.1.5", "A delegated administrator manages organisation policies", False, False),
    _C(None, "2.1.6", "Delegated administrators manage organisation-integrated services", False, False),
    # --- identity and access management ---
    _C("1.1", "2.2", "Account contact details are current", False, False),
    _C("1.2", "2.3", "Security contact is registered", False, False),
    _C("1.3", None, "Security questions are registered", False, False),
    _C("1.4", "2.4", "The root user has no access key", True, True),
    _C("1.5", "2.5", "The root user has MFA", True, True),
    _C("1.6", "2.6", "The root user has a hardware MFA device", True, False),
    _C("1.7", "2.7", "The root user is not used for everyday tasks", True, False),
    _C("1.8", "2.8", "Password policy requires 14 characters or more", True, True),
    _C("1.9", "2.9", "Password policy prevents password reuse", True, True),
    _C("1.10", "2.10", "Every IAM user with a console password has MFA", True, True),
    _C("1.11", None, "No access key is created together with a console user", True, False),
    _C("1.12", "2.11", "Credentials unused for 45 days are disabled", True, True),
    _C("1.13", None, "No IAM user has two active access keys", True, False),
    _C("1.14", "2.12", "Access keys are rotated within 90 days", True, True),
    _C("1.15", "2.13", "IAM users get permissions only through groups", True, True),
    _C("1.16", "2.14", "No attached policy allows \"*\" on \"*\"", True, True),
    _C("1.17", "2.15", "A role for AWS Support incidents exists", True, True),
    _C("1.18", "2.16", "EC2 instances use instance roles for AWS access", False, True, regional=True),
    _C("1.19", "2.17", "No expired TLS certificate is stored in IAM", True, True),
    _C("1.20", "2.18", "IAM Access Analyzer is enabled in every region", True, True, regional=True),
    _C("1.21", "2.19", "IAM users are managed centrally (federation or Organizations)", False, False),
    _C("1.22", "2.20", "AWSCloudShellFullAccess is restricted", False, False),
    _C(None, "2.21", "No resource policy grants access to Principal \"*\" without conditions", False, False),
    # --- storage ---
    _C("2.1.1", "3.1.1", "S3 bucket policies deny plain-HTTP requests", True, True),
    _C("2.1.2", "3.1.2", "S3 buckets have MFA Delete enabled", True, False),
    _C("2.1.3", "3.1.3", "S3 data is discovered and classified", False, False),
    _C("2.1.4", "3.1.4", "S3 Block Public Access is on (account and buckets)", True, True),
    _C("2.2.1", "6.1.1", "EBS default encryption is on in every region", True, True, regional=True),
    _C("2.3.1", "3.2.1", "RDS instances are encrypted at rest", True, True, regional=True),
    _C("2.3.2", "3.2.2", "RDS instances upgrade minor versions automatically", True, True, regional=True),
    _C("2.3.3", "3.2.3", "RDS instances are not publicly accessible", True, True, regional=True),
    _C(None, "3.2.4", "RDS uses Multi-AZ deployments", False, False, regional=True),
    _C("2.4.1", "3.3.1", "EFS file systems are encrypted at rest", True, True, regional=True),
    # --- logging ---
    _C("3.1", "4.1", "A multi-region CloudTrail trail is logging", True, False),
    _C("3.2", "4.2", "CloudTrail log file validation is on", True, True),
    _C("3.3", "4.3", "AWS Config records in every region", True, True, regional=True),
    _C("3.4", "4.4", "The CloudTrail bucket has server access logging", True, False),
    _C("3.5", "4.5", "CloudTrail logs are encrypted with KMS keys", True, True),
    _C("3.6", "4.6", "Customer-managed symmetric KMS keys rotate", True, True, regional=True),
    _C("3.7", "4.7", "Every VPC has flow logs", True, True, regional=True),
    _C("3.8", "4.8", "S3 object-level write events are logged", True, True),
    _C("3.9", "4.9", "S3 object-level read events are logged", True, True),
    _C(None, "4.10", "Web front-end services (CloudFront, ELB, API Gateway) log access", False, False),
    # --- monitoring ---
    _C("4.1", "5.1", "Unauthorised API calls raise an alarm", True, False),
    _C("4.2", "5.2", "Console sign-in without MFA raises an alarm", True, False),
    _C("4.3", "5.3", "Root user activity raises an alarm", True, False),
    _C("4.4", "5.4", "IAM policy changes raise an alarm", True, False),
    _C("4.5", "5.5", "CloudTrail configuration changes raise an alarm", True, False),
    _C("4.6", "5.6", "Console authentication failures raise an alarm", True, False),
    _C("4.7", "5.7", "Disabling or scheduling deletion of KMS keys raises an alarm", True, False),
    _C("4.8", "5.8", "S3 bucket policy changes raise an alarm", True, False),
    _C("4.9", "5.9", "AWS Config configuration changes raise an alarm", True, False),
    _C("4.10", "5.10", "Security group changes raise an alarm", True, False),
    _C("4.11", "5.11", "Network ACL changes raise an alarm", True, False),
    _C("4.12", "5.12", "Network gateway changes raise an alarm", True, False),
    _C("4.13", "5.13", "Route table changes raise an alarm", True, False),
    _C("4.14", "5.14", "VPC changes raise an alarm", True, False),
    _C("4.15", "5.15", "AWS Organizations changes raise an alarm", True, False),
    _C("4.16", "5.16", "AWS Security Hub is enabled", True, True, regional=True),
    # --- networking ---
    _C(None, "6.1.2", "CIFS (port 445) is not open to the internet", False, True, regional=True),
    _C("5.1", "6.2", "No network ACL admits 0.0.0.0/0 to admin ports", True, True, regional=True),
    _C("5.2", "6.3", "No security group admits 0.0.0.0/0 to admin ports", True, True, regional=True),
    _C("5.3", "6.4", "No security group admits ::/0 to admin ports", True, True, regional=True),
    _C("5.4", "6.5", "Default security groups restrict all traffic", True, True, regional=True),
    _C("5.5", "6.6", "VPC peering routes are least access", False, False, regional=True),
    _C("5.6", "6.7", "EC2 instances require IMDSv2", True, True, regional=True),
    _C(None, "6.8", "VPC endpoints are used to reach AWS services", False, False, regional=True),
)


def _cis(framework: str) -> dict[str, str]:
    return {c.id_in(framework) or "": c.title for c in CIS_CONTROLS if c.id_in(framework)}


FRAMEWORKS: dict[str, dict[str, str]] = {
    CIS_V3: _cis(CIS_V3),
    CIS_V7: _cis(CIS_V7),
    "AWS-FSBP": {
        "IAM.1": "IAM policies should not allow full \"*\" administrative privileges",
        "IAM.2": "IAM users should not have IAM policies attached",
        "IAM.3": "IAM users' access keys should be rotated every 90 days or less",
        "IAM.4": "IAM root user access key should not exist",
        "IAM.5": "MFA should be enabled for all IAM users that have a console password",
        "IAM.6": "Hardware MFA should be enabled for the root user",
        "IAM.7": "Password policies for IAM users should have strong configurations",
        "IAM.8": "Unused IAM user credentials should be removed",
        "IAM.9": "MFA should be enabled for the root user",
        "IAM.18": "A support role should exist to manage incidents with AWS Support",
        "IAM.21": "IAM customer managed policies should not allow wildcard actions for services",
        "IAM.22": "IAM user credentials unused for 45 days should be removed",
        "IAM.26": "Expired TLS certificates managed in IAM should be removed",
        "IAM.28": "IAM Access Analyzer external access analyzer should be enabled",
        "CloudTrail.1": "CloudTrail should be enabled and configured with at least one multi-Region trail that "
                        "includes read and write management events",
        "CloudTrail.2": "CloudTrail should have encryption at rest enabled",
        "CloudTrail.4": "CloudTrail log file validation should be enabled",
        "CloudTrail.7": "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket",
        "Config.1": "AWS Config should be enabled and use the service-linked role",
        "KMS.4": "AWS KMS key rotation should be enabled",
        "EC2.2": "VPC default security groups should not allow inbound or outbound traffic",
        "EC2.6": "VPC flow logging should be enabled in all VPCs",
        "EC2.7": "EBS default encryption should be enabled",
        "EC2.8": "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
        "EC2.13": "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
        "EC2.21": "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389",
        "EC2.53": "Security groups should not allow ingress from 0.0.0.0/0 to remote server administration ports",
        "EC2.54": "Security groups should not allow ingress from ::/0 to remote server administration ports",
        "EFS.1": "Elastic File System should be configured to encrypt file data at-rest using AWS KMS",
        "RDS.2": "RDS DB instances should prohibit public access",
        "RDS.3": "RDS DB instances should have encryption at-rest enabled",
        "RDS.13": "RDS automatic minor version upgrades should be enabled",
        "S3.1": "S3 general purpose buckets should have block public access settings enabled",
        "S3.5": "S3 general purpose buckets should require requests to use SSL",
        "S3.8": "S3 general purpose buckets should block public access",
        "S3.20": "S3 general purpose buckets should have MFA delete enabled",
        "S3.22": "S3 general purpose buckets should log object-level write events",
        "S3.23": "S3 general purpose buckets should log object-level read events",
        "CloudWatch.1": "A log metric filter and alarm should exist for usage of the root user",
        "SecurityHub.1": "Security Hub should be enabled",
    },
    "SOC2": {
        "CC6.1": "Logical access security software, infrastructure and architectures",
        "CC6.2": "Registration and authorization of users before access is granted",
        "CC6.3": "Role-based access, least privilege and segregation of duties",
        "CC6.6": "Logical access security measures against threats from outside system boundaries",
        "CC6.7": "Restriction of the transmission and movement of information",
        "CC7.2": "Monitoring of system components for anomalies",
    },
    "ISO27001-2022": {
        "A.5.3": "Segregation of duties",
        "A.5.15": "Access control",
        "A.5.18": "Access rights",
        "A.8.2": "Privileged access rights",
        "A.8.5": "Secure authentication",
        "A.8.8": "Management of technical vulnerabilities",
        "A.8.15": "Logging",
        "A.8.16": "Monitoring activities",
        "A.8.20": "Networks security",
        "A.8.24": "Use of cryptography",
        "A.8.31": "Separation of development, test and production environments",
    },
    "NIST-800-53": {
        "AC-2": "Account management",
        "AC-3": "Access enforcement",
        "AC-5": "Separation of duties",
        "AC-6": "Least privilege",
        "AU-6": "Audit record review, analysis and reporting",
        "AU-9": "Protection of audit information",
        "AU-12": "Audit record generation",
        "CM-6": "Configuration settings",
        "IA-2": "Identification and authentication (organizational users)",
        "IA-5": "Authenticator management",
        "SC-7": "Boundary protection",
        "SC-8": "Transmission confidentiality and integrity",
        "SC-12": "Cryptographic key establishment and management",
        "SC-28": "Protection of information at rest",
        "SI-2": "Flaw remediation",
        "SI-4": "System monitoring",
    },
    # AWS Well-Architected Framework, cost optimisation pillar: best-practice ids (COSTnn-BPnn).
    WELL_ARCHITECTED_COST: {
        "COST02-BP01": "Develop policies based on your organization requirements",
        "COST02-BP05": "Implement cost controls",
        "COST03-BP02": "Add organization information to cost and usage",
        "COST03-BP03": "Identify cost attribution categories",
        "COST03-BP05": "Configure billing and cost management tools",
    },
}

_BY_VERSION: dict[str, dict[str, CisControl]] = {
    framework: {c.id_in(framework) or "": c for c in CIS_CONTROLS if c.id_in(framework)}
    for framework in (CIS_V3, CIS_V7)
}


def cis_control(framework: str, control_id: str) -> CisControl | None:
    """The crosswalk row of a CIS control id, or None (not CIS, or unknown)."""
    return _BY_VERSION.get(framework, {}).get(control_id)


def automated_controls(framework: str) -> tuple[str, ...]:
    """The ids CIS marks automated in ``framework`` (empty for non-CIS frameworks)."""
    return tuple(c.id_in(framework) or "" for c in CIS_CONTROLS if c.id_in(framework) and c.automated_in(framework))


def is_regional(framework: str, control_id: str) -> bool:
    row = cis_control(framework, control_id)
    return bool(row and row.regional)


def expand_mapping(mapping: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """A rule's mapping with the CIS ids of every version the crosswalk knows, in catalogue order.

    A rule names the CIS v3.0.0 id; the v7.0.0 id follows from the crosswalk (and the other way round)."""
    expanded: dict[str, list[str]] = {framework: list(ids) for framework, ids in mapping.items()}
    for source in (CIS_V3, CIS_V7):
        for control_id in list(expanded.get(source, ())):
            row = cis_control(source, control_id)
            if row is None:
                continue
            for target in (CIS_V3, CIS_V7):
                other = row.id_in(target)
                if other and other not in expanded.setdefault(target, []):
                    expanded[target].append(other)
    return {framework: tuple(ids) for framework, ids in expanded.items() if ids}


def validate_mapping(mapping: Mapping[str, tuple[str, ...]]) -> str | None:
    """A problem with a rule's compliance mapping (unknown framework or control), or None."""
    for framework, controls in mapping.items():
        known = FRAMEWORKS.get(framework)
        if known is None:
            return f"unknown compliance framework {framework!r} (known: {', '.join(FRAMEWORKS)})"
        for control in controls:
            if control not in known:
                return f"unknown control {control!r} in framework {framework}"
    return None
