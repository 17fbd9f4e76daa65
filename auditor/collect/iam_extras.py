"""Collects the IAM settings the CIS foundations controls need beyond the authorization details: server
certificates stored in IAM, whether the root user's MFA is a virtual device, and IAM Access Analyzer
analyzers per region. All three are bulk, paginated list calls.
"""

from __future__ import annotations

from datetime import datetime

from auditor.collect.regional import per_region
from auditor.collect.session import AWS_ERRORS, ClientFactory, Gaps
from auditor.model import AccessAnalyzer, IamExtras, ServerCertificate


def collect_iam_extras(factory: ClientFactory, regions: tuple[str, ...], home_region: str, gaps: Gaps) -> IamExtras:
    iam = factory.client("iam", home_region)
    certificates: tuple[ServerCertificate, ...] | None = None
    try:
        certificates = tuple(
            ServerCertificate(name=str(c.get("ServerCertificateName", "")), arn=str(c.get("Arn", "")),
                              expiration=_iso(c.get("Expiration")))
            for page in iam.get_paginator("list_server_certificates").paginate()
            for c in page.get("ServerCertificateMetadataList", [])
        )
    except AWS_ERRORS as exc:
        gaps.record("iam", "ListServerCertificates", exc)
    root_virtual: bool | None = None
    try:
        devices = [d for page in iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
                   for d in page.get("VirtualMFADevices", [])]
        # The root user's virtual device is assigned to arn:...:iam::ACCOUNT:root.
        root_virtual = any(str((d.get("User") or {}).get("Arn", "")).endswith(":root") for d in devices)
    except AWS_ERRORS as exc:
        gaps.record("iam", "ListVirtualMFADevices", exc)
    analyzers = per_region(regions, lambda r: _analyzers(factory, r), gaps, "accessanalyzer", "ListAnalyzers")
    return IamExtras(server_certificates=certificates, root_virtual_mfa=root_virtual, access_analyzers=analyzers)


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def _analyzers(factory: ClientFactory, region: str) -> tuple[AccessAnalyzer, ...]:
    client = factory.client("accessanalyzer", region)
    return tuple(
        AccessAnalyzer(arn=str(a.get("arn", "")), name=str(a.get("name", "")), type=str(a.get("type", "")),
                       status=str(a.get("status", "")))
        for page in client.get_paginator("list_analyzers").paginate()
        for a in page.get("analyzers", [])
    )
