"""Analysis as a whole: what limits the evaluation is coverage, and it changes no other conclusion."""

from __future__ import annotations

from typing import Any

from auditor.analyze import analyze
from auditor.config import AuditorConfig
from auditor.model import IamRole, InlinePolicy
from tests.rules.org_snapshot import NOW, PROD, org_snapshot, trust


def test_unknown_action_is_coverage_and_changes_no_conclusion() -> None:
    def role(statements: list[dict[str, Any]]) -> IamRole:
        return IamRole(arn=f"arn:aws:iam::{PROD}:role/ops", name="ops", create_date="2026-11-01T00:00:00+00:00",
                       trust_policy=trust(f"arn:aws:iam::{PROD}:root"),
                       inline_policies=(InlinePolicy(name="p", document={"Version": "2012-10-17",
                                                                          "Statement": statements}),))

    admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    unknown = {"Effect": "Allow", "Action": ["madeup:DoThing", "codestar:CreateProject"], "Resource": "*"}
    plain = analyze(org_snapshot(roles={PROD: (role([admin]),)}), AuditorConfig(), now=NOW)
    noisy = analyze(org_snapshot(roles={PROD: (role([unknown, admin]),)}), AuditorConfig(), now=NOW)
    assert [f.id for f in noisy.findings if f.category != "coverage"] == [
        f.id for f in plain.findings if f.category != "coverage"]
    [gap] = [g for g in noisy.coverage if g.error_code == "unknown-action"]  # codestar: known (second source)
    assert gap.account_id == PROD and gap.message.startswith("service 'madeup' not in the action catalogue")
    assert "1 pattern (madeup:DoThing)" in gap.message
    assert not [g for g in plain.coverage if g.service == "auditor"]
