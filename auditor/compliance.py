"""Compliance frameworks and their controls, as data. Rules map to these ids; reports group by them.

A control is "automated" when at least one rule maps to it; the others are listed as manual.
"""

from __future__ import annotations

from collections.abc import Mapping

FRAMEWORKS: dict[str, dict[str, str]] = {
    "CIS-AWS-3.0.0": {
        "1.4": "Ensure no 'root' user account access key exists",
        "1.5": "Ensure MFA is enabled for the 'root' user account",
        "1.8": "Ensure IAM password policy requires minimum length of 14 or greater",
        "1.9": "Ensure IAM password policy prevents password reuse",
        "1.10": "Ensure MFA is enabled for all IAM users that have a console password",
        "1.12": "Ensure credentials unused for 45 days or greater are disabled",
        "1.13": "Ensure there is only one active access key available for any single IAM user",
        "1.14": "Ensure access keys are rotated every 90 days or less",
        "1.15": "Ensure IAM Users Receive Permissions Only Through Groups",
        "1.16": "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
        "1.21": "Ensure IAM users are managed centrally via identity federation or AWS Organizations",
        "3.1": "Ensure CloudTrail is enabled in all regions",
    },
    "CIS-AWS-7.0.0": {
        "2.1.3": "Ensure the management account is not used for workloads",
        "2.1.4": "Ensure organizational units are structured by environment",
        "2.2.4": "Ensure no 'root' user account access key exists",
        "2.2.5": "Ensure MFA is enabled for the 'root' user account",
        "2.2.10": "Ensure MFA is enabled for all IAM users that have a console password",
        "2.2.12": "Ensure credentials unused for 45 days or more are disabled",
        "2.2.13": "Ensure there is only one active access key for any single IAM user",
        "2.2.14": "Ensure access keys are rotated every 90 days or less",
        "2.2.15": "Ensure IAM users receive permissions only through groups",
        "2.2.16": "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
    },
    "AWS-FSBP": {
        "IAM.1": "IAM policies should not allow full \"*\" administrative privileges",
        "IAM.2": "IAM users should not have IAM policies attached",
        "IAM.3": "IAM users' access keys should be rotated every 90 days or less",
        "IAM.4": "IAM root user access key should not exist",
        "IAM.5": "MFA should be enabled for all IAM users that have a console password",
        "IAM.7": "Password policies for IAM users should have strong configurations",
        "IAM.8": "Unused IAM user credentials should be removed",
        "IAM.9": "MFA should be enabled for the root user",
        "IAM.21": "IAM customer managed policies should not allow wildcard actions for services",
        "IAM.22": "IAM user credentials unused for 45 days should be removed",
        "CloudTrail.1": "CloudTrail should be enabled and configured with at least one multi-Region trail that "
                        "includes read and write management events",
    },
    "SOC2": {
        "CC6.1": "Logical access security software, infrastructure and architectures",
        "CC6.2": "Registration and authorization of users before access is granted",
        "CC6.3": "Role-based access, least privilege and segregation of duties",
        "CC6.6": "Logical access security measures against threats from outside system boundaries",
    },
    "ISO27001-2022": {
        "A.5.3": "Segregation of duties",
        "A.5.15": "Access control",
        "A.5.18": "Access rights",
        "A.8.2": "Privileged access rights",
        "A.8.15": "Logging",
        "A.8.31": "Separation of development, test and production environments",
    },
    "NIST-800-53": {
        "AC-2": "Account management",
        "AC-5": "Separation of duties",
        "AC-6": "Least privilege",
        "AU-12": "Audit record generation",
    },
}


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
