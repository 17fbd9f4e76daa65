"""What is known about a principal's requests: the condition facts of its context (account, organisation,
tags, user name...) and the keys whose value the caller picks (how it signs in: ``aws:MultiFactorAuthPresent``).

Request facts AWS documents for IAM users and role sessions:

* a user's requests signed with long-term access keys carry no ``aws:MultiFactorAuthPresent`` (absent, so
  ``Bool {"aws:MultiFactorAuthPresent": "false"}`` does not match them; ``BoolIfExists`` does); console
  sign-in and session tokens without MFA carry ``false``; with the user's MFA device, ``true``. The holder of
  a user's credentials picks the channel (access keys can be created for any user, so both channels count);
* a role session (temporary credentials: the key is present) carries ``true`` when the role's trust policy
  admitted only callers that used MFA, ``false`` when it admits only AWS services (they do not sign in with
  MFA); otherwise its value is not known here (undecided, never assumed ``false``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.iam.conditions import Choice, ConditionContext, FactValue, Opaque, Tri, evaluate_conditions
from auditor.iam.policy import Policy, Statement
from auditor.iam.request import PrincipalPolicies

if TYPE_CHECKING:
    from auditor.iam.snapshot_index import Evaluator

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")

_KEYS = "aws:MultiFactorAuthPresent absent: requests signed with the user's long-term access keys"
_CONSOLE = "aws:MultiFactorAuthPresent false: console sign-in or session token without MFA"
_WITH_MFA = "aws:MultiFactorAuthPresent true: assumed signed in with the user's MFA device"
_MFA_UNKNOWN = "aws:MultiFactorAuthPresent true only with the user's MFA device: not assumed"


def user_mfa_choices(mfa_device: bool | None, assume_mfa: bool | None) -> dict[str, Choice]:
    """How a user's requests may look for MFA, by channel (``mfa_device``: from the credential report)."""
    present: list[object] = [None, ("false",)]
    age: list[object] = [None, None]
    labels = [_KEYS, _CONSOLE]
    if assume_mfa is True and mfa_device is not False:
        present.append(("true",))
        age.append(False)  # some age, unknown
        labels.append(_WITH_MFA)
    elif assume_mfa is None and mfa_device is not False:
        present.append(False)  # with the device: undecided unless told to assume it
        age.append(False)
        labels.append(_MFA_UNKNOWN)
    return {
        MFA_PRESENT: Choice("mfa", tuple(present), tuple(labels)),
        MFA_AGE: Choice("mfa", tuple(age), tuple(labels)),
    }


_WITHOUT_MFA = (
    ConditionContext(absent=frozenset({MFA_PRESENT, MFA_AGE})),
    ConditionContext(values={MFA_PRESENT: ("false",)}, absent=frozenset({MFA_AGE})),
)


def trust_requires_mfa(trust: Policy | None) -> bool:
    """Every caller the trust policy admits has used MFA: each Allow of sts:AssumeRole* fails without MFA
    (key absent or false, whatever else is true), or a Deny for every caller holds without MFA."""
    if trust is None:
        return False
    allows = [st for st in trust.allows() if _assumes(st)]
    if not allows:
        return False
    denies = [st for st in trust.denies() if _assumes(st) and _everyone(st)]
    for probe in _WITHOUT_MFA:
        if any(evaluate_conditions(st.conditions, probe, "Deny").result == Tri.YES for st in denies):
            continue
        if any(evaluate_conditions(st.conditions, probe, "Allow").result != Tri.NO for st in allows):
            return False
    return True


def trust_admits_only_services(trust: Policy | None) -> bool:
    """Every Allow of sts:AssumeRole* in the trust names only AWS service principals."""
    allows = [st for st in trust.allows() if _assumes(st)] if trust is not None else []
    return bool(allows) and all(
        st.not_principals is None and st.principals is not None and set(st.principals) == {"Service"}
        for st in allows
    )


def _assumes(statement: Statement) -> bool:
    return any(statement.matches_action(a) for a in ASSUME_ACTIONS)


def _everyone(statement: Statement) -> bool:
    return statement.not_principals is None and (statement.principals in (None, {"AWS": ("*",)}))


def principal_facts(index: Evaluator, principal: PrincipalPolicies) -> ConditionContext:
    """The condition facts of requests made by ``principal`` (before the resource's facts)."""
    values: dict[str, FactValue] = {}
    absent: set[str] = set()
    acct = principal.account_id
    org_id = index.org_id
    outsider_ids = frozenset({org_id} if org_id else set())
    if principal.type in ("user", "role", "account"):
        values["aws:principalaccount"] = (acct,) if acct else Opaque()
        values["aws:principalisawsservice"] = ("false",)
        absent |= {"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:principalservicename"}
        if index.in_organization(acct):
            assert org_id is not None and acct is not None
            values["aws:principalorgid"] = (org_id,)
            values["aws:principalorgpaths"] = (index.org_path(acct),)
        elif org_id is not None:
            values["aws:principalorgid"] = Opaque(outsider_ids)
            values["aws:principalorgpaths"] = Opaque(outsider_ids)
    if principal.type in ("user", "role"):
        values["aws:principalarn"] = (principal.arn,)
        values["aws:principaltype"] = ("User",) if principal.type == "user" else ("AssumedRole",)
        values["aws:viaawsservice"] = ("false",)  # the principal's own requests, not a service on its behalf
        absent.add("aws:calledvia")
        for key, value in principal.tags.items():
            values[f"aws:principaltag/{key.lower()}"] = (value,)
        absent.add("aws:principaltag/*")
    if principal.type == "user":
        values["aws:username"] = (principal.name,)
        if principal.unique_id:
            values["aws:userid"] = (principal.unique_id,)
        values.update(user_mfa_choices(index.mfa_device(principal.arn), index.assume_mfa))
    elif principal.type == "role":
        absent.add("aws:username")  # role sessions have no user name; aws:userid is "<role id>:<session>"
        trust = index.trust_policy(principal.arn)
        if trust_admits_only_services(trust):
            values[MFA_PRESENT] = ("false",)
            absent.add(MFA_AGE)
        elif trust_requires_mfa(trust):
            note = (f"aws:MultiFactorAuthPresent true: the trust policy of {principal.name or principal.arn} "
                    "admits only callers that used MFA",)
            values[MFA_PRESENT] = Choice("mfa", (("true",),), note)
            values[MFA_AGE] = Choice("mfa", (False,), note)
    elif principal.type == "anyone":
        excluded = frozenset(index.known_accounts)
        values["aws:principalaccount"] = Opaque(excluded)
        values["aws:principalarn"] = Opaque(
            frozenset(
                f"arn:{partition}:{service}::{a}:"
                for a in excluded
                for partition in index.partitions
                for service in ("iam", "sts")
            )
        )
        if org_id:
            values["aws:principalorgid"] = Opaque(outsider_ids)
            values["aws:principalorgpaths"] = Opaque(outsider_ids)
    elif principal.type == "service":
        values["aws:principalisawsservice"] = ("true",)
        values["aws:principalservicename"] = (principal.arn,)
        absent |= {"aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths"}
    return ConditionContext(values=values, absent=frozenset(absent))
