"""The whole audit, end to end, on the built-in demo organisation: every seeded risk is found,
every clean counterpart is not, and the reports honour their contract."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.report import validate_findings_document


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        mp.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        stderr = io.StringIO()
        with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stderr(stderr):
            main(["demo", "--out", str(out), "--quiet"])
    # analyze's exit code on the same snapshot: one demo account refuses the audit role, so the audit is partial
    assert exit_info.value.code == 3, stderr.getvalue()
    assert stderr.getvalue() == "exit 3: 1 account not audited, 1 partial (2 coverage gaps)\n"
    yield out


@pytest.fixture(scope="module")
def document(demo_out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((demo_out / "findings.json").read_text())
    return data


def _names(document: dict[str, Any]) -> dict[str, str]:
    return {a["id"]: a["name"] for a in document["accounts"]}


def _found(document: dict[str, Any], rule_id: str) -> set[tuple[str, str]]:
    """(account name, last part of the resource ARN) for every finding of ``rule_id``."""
    names = _names(document)
    return {
        (names.get(f["account_id"], f["account_id"]), f["resource_arn"].split("/")[-1].split(":")[-1])
        for f in document["findings"]
        if f["rule_id"] == rule_id
    }


def test_reports_written_and_valid(demo_out: Path, document: dict[str, Any]) -> None:
    assert (demo_out / "report.html").stat().st_size > 10_000
    assert (demo_out / "findings.csv").read_text().count("\n") == len(document["findings"]) + 1
    validate_findings_document(document)
    assert document["organization"]["management_account_id"] == "123456789012"
    assert len(document["accounts"]) >= 9


def test_environment_classification_and_sources(document: dict[str, Any]) -> None:
    by_name = {a["name"]: a for a in document["accounts"]}
    assert by_name["prod-app"]["environment"] == "prod"
    assert by_name["prod-app"]["environment_source"] == "account tag Environment=prod"
    assert by_name["prod-data"]["environment"] == "prod"
    assert by_name["prod-data"]["environment_source"].startswith("OU path /Root/Production")
    assert by_name["dev-app"]["environment"] == "non-prod"
    assert by_name["security-audit"]["environment"] == "security"
    assert by_name["broken"]["audited"] is False


@pytest.mark.parametrize(
    ("rule_id", "present", "absent_names"),
    [
        ("ENV-001", {("legacy-mixed", None)}, set()),
        ("MGMT-002", {(None, "mgmt-admin")}, set()),
        ("ADMIN-001", {("dev-app", "alice")}, {"erin", "grace", "bob"}),
        ("ADMIN-002", {("dev-app", "Admins")}, {"EmptyAdmins"}),
        ("ADMIN-003", {("prod-app", "app-server-role")}, {"app-reader-role"}),
        ("ADMIN-004", {("staging", "ci-deployer")}, set()),
        ("EXT-001", {("prod-data", "VendorAccessRole")}, {"OrgInternalRole", "SecurityAuditRole"}),
        ("CRED-003", {("dev-app", "dave")}, {"erin"}),
        ("CRED-004", {("dev-app", "frank")}, {"grace"}),
        ("CRED-005", {("dev-app", "frank")}, {"grace"}),
        ("COV-001", {("broken", None)}, set()),
    ],
)
def test_each_seeded_risk_found_and_twin_clean(
    document: dict[str, Any],
    rule_id: str,
    present: set[tuple[str | None, str | None]],
    absent_names: set[str],
) -> None:
    found = _found(document, rule_id)
    for account, resource in present:
        assert any(
            (account is None or a == account) and (resource is None or r == resource) for a, r in found
        ), (rule_id, account, resource, found)
    assert not {r for _, r in found} & absent_names, (rule_id, found)


def test_privilege_escalation_through_passrole(document: dict[str, Any]) -> None:
    escalations = [f for f in document["findings"] if f["rule_id"] == "PRIVESC-001"]
    sources = {f["resource_arn"].split("/")[-1] for f in escalations}
    assert "build-runner" in sources and "build-runner-limited" not in sources
    (runner,) = [f for f in escalations if f["resource_arn"].endswith(":role/build-runner")]
    assert runner["path"][1].endswith(":role/batch-admin-ec2")
    assert [h["kind"] for h in runner["evidence"]["hops"]] == ["can-escalate-to", "is-admin-of"]


def test_modify_then_use_escalation(document: dict[str, Any]) -> None:
    escalations = [f for f in document["findings"] if f["rule_id"] == "PRIVESC-001"]
    releases = [f for f in escalations if f["resource_arn"].split("/")[-1].startswith("release-manager")]
    assert [f["resource_arn"].split("/")[-1] for f in releases] == ["release-manager"]  # not the scoped twin
    (release,) = releases
    staging = release["resource_arn"].split(":")[4]
    assert release["path"][0] == release["resource_arn"]
    assert len(release["path"]) == 2 and release["path"][1].endswith(f"/{staging}")  # the staging account
    (hop,) = release["evidence"]["hops"]
    assert hop["kind"] == "can-escalate-to"
    assert hop["evidence"]["technique_id"] == "iam-attach-role-policy"
    assert hop["evidence"]["via"] == "assume-role"
    assert hop["evidence"]["modified"] == f"arn:aws:iam::{staging}:role/deploy-target"
    assert release["severity"] == "high"


@pytest.mark.parametrize(("user", "role", "technique"), [
    ("release-bot", "nightly-release-build", "codebuild-start-build-override"),
    ("oncall", "batch-admin-ec2", "ssm-start-session"),
])
def test_taking_over_a_resource_that_runs_as_admin(
    document: dict[str, Any], user: str, role: str, technique: str
) -> None:
    """Resource techniques fire end to end on collected data (an EC2 instance's role comes from its instance
    profile); the twins (lint-bot, oncall-reports) reach only read-only roles and are not reported."""
    escalations = [f for f in document["findings"] if f["rule_id"] == "PRIVESC-001"]
    sources = {f["resource_arn"].split("/")[-1] for f in escalations}
    assert user in sources and not {"lint-bot", "oncall-reports"} & sources
    (finding,) = [f for f in escalations if f["resource_arn"].endswith(f":user/{user}")]
    assert finding["path"][1].endswith(f":role/{role}")
    assert technique in json.dumps(finding["evidence"])


def test_bucket_shared_outside_the_organisation(document: dict[str, Any]) -> None:
    shared = {f["resource_arn"].split(":::")[-1].rsplit("-", 1)[0] for f in document["findings"]
              if f["rule_id"] == "EXT-002"}
    assert shared == {"prod-data-exports"}  # the in-organisation twin is not reported


def test_management_account_workloads(document: dict[str, Any]) -> None:
    resources = {f["resource_arn"] for f in document["findings"] if f["rule_id"] == "MGMT-001"}
    assert any(":instance/" in arn for arn in resources)
    assert any(arn.startswith("arn:aws:s3:::mgmt-scratch-") for arn in resources)


def test_contradicting_tags(document: dict[str, Any]) -> None:
    found = _found(document, "ENV-002")
    accounts = {a for a, _ in found}
    assert {"prod-app", "legacy-mixed"} <= accounts
    assert not any(r.startswith("prod-app-assets") for _, r in found)


def test_nonprod_to_prod(document: dict[str, Any]) -> None:
    xenv = [f for f in document["findings"] if f["rule_id"] == "XENV-001"]
    pairs = {(f["path"][0].split("/")[-1], f["path"][-1].split("/")[-1]) for f in xenv}
    assert ("alice", "ProdMetricsReader") in pairs  # dev admin steps into a prod read role
    assert not any(target == "ProdReadOnlyFromSecurity" for _, target in pairs)  # security -> prod is fine
    # a hop straight into a prod admin role is reported once, as a path to admin (XENV-002)
    assert not any(target == "ProdDeployRole" for _, target in pairs)
    admin_paths = [f["path"] for f in document["findings"] if f["rule_id"] == "XENV-002"]
    assert any(p[0].endswith(":role/dev-ci-role") and p[1].endswith(":role/ProdDeployRole") for p in admin_paths)


def test_two_hop_path_from_nonprod_to_prod_admin(document: dict[str, Any]) -> None:
    paths = [f for f in document["findings"] if f["rule_id"] == "XENV-002"]
    carol = [f for f in paths if f["resource_arn"].endswith(":user/carol")]
    assert carol, [f["resource_arn"] for f in paths]
    hops = carol[0]["evidence"]["hops"]
    assert [h["kind"] for h in hops][:2] == ["can-assume", "can-assume"]
    assert carol[0]["path"][1].endswith(":role/dev-ops-role")
    assert carol[0]["path"][2].endswith(":role/DataAdminRole")
    # the contract: a path is a list of ARNs, the account at the end included
    assert all(node.startswith("arn:") for f in document["findings"] for node in f["path"])


def test_budgets(document: dict[str, Any]) -> None:
    accounts = {a for a, _ in _found(document, "COST-002")}
    assert {"staging", "sandbox", "prod-data", "legacy-mixed"} <= accounts
    assert not accounts & {"prod-app", "dev-app", "security-audit"}


def test_missing_tags(document: dict[str, Any]) -> None:
    found = _found(document, "COST-001")
    assert any(account == "sandbox" and "orphan-fn" in resource for account, resource in found)
    assert not any(resource.startswith("prod-app-assets") for _, resource in found)


def test_guardrails_present_in_demo_give_no_finding(document: dict[str, Any]) -> None:
    assert not _found(document, "GUARD-001")
    assert not _found(document, "GUARD-002")
    assert not _found(document, "GUARD-005")  # the demo's organisation trail is multi-region and logging
    assert not _found(document, "COST-005")  # its tag policy on the root defines every required cost tag


def test_offline_analysis_of_the_snapshot_gives_identical_findings(
    demo_out: Path, document: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(demo_out / "snapshot"), "--out", str(tmp_path), "--quiet", "--format", "json"])
    assert exit_info.value.code == 3  # the demo snapshot is partial: one account refused the role
    offline = json.loads((tmp_path / "findings.json").read_text())
    assert [f["id"] for f in offline["findings"]] == [f["id"] for f in document["findings"]]
    assert offline["findings"] == document["findings"]


def test_suppressions_hide_expire_and_go_stale(demo_out: Path, document: dict[str, Any], tmp_path: Path) -> None:
    suppressions = tmp_path / "suppressions.yaml"
    suppressions.write_text(
        "suppressions:\n"
        "  - rule_id: CRED-003\n    arn: 'arn:aws:iam::*:user/dave'\n"
        "    reason: contractor leaves Friday\n    owner: secops@example.com\n    expires: 2999-01-01\n"
        "  - rule_id: ADMIN-001\n    arn: 'arn:aws:iam::*:user/alice'\n"
        "    reason: temporary admin for migration\n    owner: platform@example.com\n    expires: 2020-01-01\n"
        "  - rule_id: EXT-001\n    arn: 'arn:aws:iam::*:role/NoSuchRole'\n"
        "    reason: vendor\n    owner: vendor-mgmt@example.com\n    expires: 2999-01-01\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(demo_out / "snapshot"), "--out", str(tmp_path / "out"), "--quiet",
              "--format", "json,html", "--suppressions", str(suppressions)])
    assert exit_info.value.code == 3
    result = json.loads((tmp_path / "out" / "findings.json").read_text())
    validate_findings_document(result)
    active = {(f["rule_id"], f["resource_arn"].split("/")[-1]) for f in result["findings"]}
    hidden = [(f["rule_id"], f["resource_arn"].split("/")[-1], f["suppression"]["owner"])
              for f in result["suppressed_findings"]]
    assert hidden == [("CRED-003", "dave", "secops@example.com")]
    assert ("CRED-003", "dave") not in active
    assert ("ADMIN-001", "alice") in active  # the expired entry no longer hides it
    assert [e["owner"] for e in result["suppressions"]["expired"]] == ["platform@example.com"]
    assert len(result["suppressions"]["expired"][0]["would_hide"]) == 1
    assert [e["owner"] for e in result["suppressions"]["stale"]] == ["vendor-mgmt@example.com"]
    assert len(result["findings"]) == len(document["findings"]) - 1
    html = (tmp_path / "out" / "report.html").read_text()
    assert "contractor leaves Friday" in html and 'id="stale-suppressions-table"' in html


def test_malformed_suppression_file_is_one_line_naming_the_entry(
    demo_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppressions = tmp_path / "bad.yaml"
    suppressions.write_text("- rule_id: CRED-003\n  reason: r\n  expires: 2999-01-01\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(demo_out / "snapshot"), "--out", str(tmp_path / "out"), "--suppressions",
              str(suppressions)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "entry 1" in err and "owner" in err


def test_matrix_has_an_identity_center_row(demo_out: Path, document: dict[str, Any]) -> None:
    import re

    html = (demo_out / "report.html").read_text()
    by_name = {a["name"]: a["id"] for a in document["accounts"]}
    cells = dict(re.findall(r'data-source="identity-center" data-target="(\d{12})" data-admin="(\d+)"', html))
    assert cells[by_name["prod-app"]] == "1"  # alex.admin through platform-admins and AdministratorAccess
    assert cells[by_name["prod-data"]] == "0"
    admin_006 = next(f["id"] for f in document["findings"] if f["rule_id"] == "ADMIN-006")
    assert f'data-target="{by_name["prod-app"]}" data-admin="1" data-write="1" data-finding-ids="{admin_006}"' in html


def test_the_auditors_own_external_id_is_in_no_output(demo_out: Path) -> None:
    """The audit role's trust requires the demo's ExternalId in every member account: no shard or report keeps it."""
    from auditor.demo import AUDIT_EXTERNAL_ID

    files = [p for p in demo_out.rglob("*") if p.is_file()]
    assert any(p.parent.name == "accounts" for p in files)
    assert [str(p) for p in files if AUDIT_EXTERNAL_ID in p.read_text()] == []


def test_two_demo_runs_show_no_change(demo_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The demo organisation has fixed ids: `auditor diff` between two demo runs reports nothing new or resolved."""
    with pytest.raises(SystemExit):
        main(["demo", "--out", str(tmp_path / "again"), "--quiet", "--format", "json"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(demo_out), str(tmp_path / "again")])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert ": 0 new, 0 resolved, " in out.splitlines()[0] and "different organisations" not in out


def test_same_account_chain_to_admin(document: dict[str, Any]) -> None:
    """REACH-001 on the sandbox chain: oncall -> triage -> break-fix-admin; its read-only twin is silent."""
    names = {"oncall", "triage", "break-fix-admin", "oncall-readonly", "triage-readonly", "log-reader"}
    reach = {
        f["resource_arn"].split("/")[-1]: f
        for f in document["findings"]
        if f["rule_id"] == "REACH-001" and f["resource_arn"].split("/")[-1] in names
    }
    assert sorted(reach) == ["break-fix-admin", "oncall", "triage"]
    oncall = reach["oncall"]
    sandbox = oncall["account_id"]
    assert _names(document)[sandbox] == "sandbox"
    assert [node.split("/")[-1] for node in oncall["path"]] == ["oncall", "triage", "break-fix-admin", sandbox]
    assert [h["kind"] for h in oncall["evidence"]["hops"]] == ["can-assume", "can-assume", "is-admin-of"]
    assert (oncall["severity"], oncall["evidence"]["conditional"]) == ("high", False)
    assert [node.split("/")[-1] for node in reach["triage"]["path"]] == ["triage", "break-fix-admin", sandbox]


# --- CIS foundations compliance (issue 13) ------------------------------------------------------------------


def _compliance(demo_out: Path, document: dict[str, Any], framework: str) -> dict[tuple[str, str], str]:
    """(control id, account name) -> status, for the automated controls of ``framework``."""
    import pandas as pd

    from auditor.compliance import automated_controls

    frame = pd.read_csv(demo_out / "compliance.csv", dtype=str, keep_default_na=False)
    names = _names(document)
    rows = frame[(frame.framework == framework) & frame.control_id.isin(automated_controls(framework))]
    return {(r.control_id, names[r.account_id]): r.status for r in rows.itertuples()}


@pytest.mark.parametrize("framework", ["CIS-AWS-3.0.0", "CIS-AWS-7.0.0"])
def test_compliance_csv_every_automated_cis_control_passes_or_fails_where_audited(
    demo_out: Path, document: dict[str, Any], framework: str
) -> None:
    from auditor.compliance import automated_controls

    statuses = _compliance(demo_out, document, framework)
    audited = {a["name"] for a in document["accounts"] if a["audited"]}
    refused = {a["name"] for a in document["accounts"] if not a["audited"]}
    assert refused == {"broken"} and len(automated_controls("CIS-AWS-3.0.0")) == 54
    for control in automated_controls(framework):
        for account in audited:
            assert statuses[(control, account)] in ("pass", "fail"), (control, account, statuses[(control, account)])
        assert statuses[(control, "broken")] == "not collected"


@pytest.mark.parametrize(("control", "passing", "failing"), [
    ("1.17", "security-audit", "prod-app"),   # support role
    ("1.20", "security-audit", "prod-app"),   # Access Analyzer
    ("2.1.1", "security-audit", "prod-app"),  # bucket policy denies plain HTTP
    ("2.1.4", "security-audit", "prod-app"),  # Block Public Access
    ("2.2.1", "security-audit", "prod-app"),  # EBS encryption by default
    ("2.3.1", "security-audit", "prod-data"), ("2.3.2", "security-audit", "prod-data"),
    ("2.3.3", "security-audit", "prod-data"), ("2.4.1", "security-audit", "prod-data"),
    ("3.3", "security-audit", "prod-app"),    # AWS Config
    ("3.4", "security-audit", "master"),      # trail bucket access logging
    ("3.5", "security-audit", "master"),      # trail KMS encryption
    ("3.6", "security-audit", "prod-data"),   # KMS rotation
    ("3.7", "security-audit", "prod-app"),    # flow logs
    ("3.8", "security-audit", "prod-app"), ("3.9", "security-audit", "prod-app"),  # S3 object-level events
    *[(f"4.{n}", "security-audit", "prod-app") for n in range(1, 17)],  # metric filters + alarms, Security Hub
    ("5.1", "security-audit", "prod-app"),    # NACL admin ports
    ("5.2", "security-audit", "dev-app"), ("5.3", "security-audit", "dev-app"),
    ("5.4", "security-audit", "prod-app"),    # default security group
])
def test_cis_family_twins_in_the_demo(
    demo_out: Path, document: dict[str, Any], control: str, passing: str, failing: str
) -> None:
    statuses = _compliance(demo_out, document, "CIS-AWS-3.0.0")
    assert (statuses[(control, passing)], statuses[(control, failing)]) == ("pass", "fail")


def test_sandbox_fence_is_reported_as_a_control_that_holds(document: dict[str, Any]) -> None:
    """Issue 12 §2: prod-app's ExperimentsAdmin trusts sandbox's experimenter, whose own policy allows the call;
    the SandboxFence SCP on the Sandbox OU stops it. Blocked-by evidence, not a path."""
    names = _names(document)
    [control] = [c for c in document["controls"] if c["name"] == "SandboxFence"]
    assert (control["kind"], control["lifted_by"], control["holds"]) == ("scp", "organization", True)
    assert control["ref"].startswith("arn:aws:organizations::123456789012:policy/")
    assert control["attached_to"].startswith("ou-")
    assert control["statement"]["Sid"] == "NoRolesOutsideSandbox"
    [path] = control["paths"]
    assert [node.split("/")[-1] for node in path["nodes"]] == [
        "experimenter", "ExperimentsAdmin", path["target_account_id"]
    ]
    assert (names[path["source_account_id"]], names[path["target_account_id"]]) == ("sandbox", "prod-app")
    assert (path["source_environment"], path["target_environment"], path["bypassed"]) == ("sandbox", "prod", False)
    assert not [f for f in document["findings"] if f["path"] and f["path"][0].endswith(":user/experimenter")]

