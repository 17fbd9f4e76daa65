"""The access graph's vocabulary, defined once: node kinds, edge kinds, grant levels, source environments.

The enums are ``StrEnum``: a kind compares equal to its string and serialises as it, so findings' evidence
and reports keep the same words.
"""

from __future__ import annotations

from enum import StrEnum


class NodeKind(StrEnum):
    ORGANIZATION = "organization"
    ROOT = "root"  # the organisation's root
    OU = "ou"
    ACCOUNT = "account"  # also stands for "administrator of the account" as a path's last node
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    ACCOUNT_PRINCIPAL = "account-principal"  # arn:aws:iam::A:root as a trust names it
    SERVICE = "service"
    FEDERATED = "federated"
    ANYONE = "anyone"  # Principal "*"
    IDENTITY_CENTER_USER = "identity-center-user"
    IDENTITY_CENTER_GROUP = "identity-center-group"
    PERMISSION_SET = "permission-set"


class EdgeKind(StrEnum):
    CONTAINS = "contains"  # organisation structure, account -> its principals
    MEMBER_OF = "member-of"  # user -> group (IAM and Identity Center)
    CAN_ASSUME = "can-assume"  # trust policy AND identity policy AND guardrails (``evaluate.can``)
    CAN_ESCALATE_TO = "can-escalate-to"  # a privilege-escalation technique (``auditor.iam.escalation``)
    IS_ADMIN_OF = "is-admin-of"  # principal -> account: the admin test (``auditor.graph.admin``)
    CONTROLS = "controls"  # account (its administrator) -> its account principal, named by trusts
    ASSIGNED = "assigned"  # Identity Center user/group -> permission set, one edge per account
    PROVISIONS = "provisions"  # permission set -> its AWSReservedSSO_* role in an account
    CAN_ACCESS = "can-access"  # permission set -> account it gives non-admin access to


# Edges a path to admin may follow. Identity Center edges are not among them: only
# ``AccessGraph.identity_center_access`` starts from Identity Center.
PATH_KINDS = frozenset({EdgeKind.CAN_ASSUME, EdgeKind.CAN_ESCALATE_TO, EdgeKind.IS_ADMIN_OF, EdgeKind.CONTROLS})

# Nodes that can start an access path (groups cannot act; services act for whoever passes a role).
SOURCE_KINDS = frozenset(
    {NodeKind.USER, NodeKind.ROLE, NodeKind.ACCOUNT_PRINCIPAL, NodeKind.FEDERATED, NodeKind.ANYONE}
)


class GrantLevel(StrEnum):
    FULL_ADMIN = "full-admin"  # effective * on *
    SERVICE_ADMIN = "service-admin"  # svc:* on * (iam:* makes an is-admin-of edge)
    CREATES_ADMIN = "creates-admin"  # may create a principal with any policy and use it (no iam:* needed)


class Environment(StrEnum):
    """Source environments the graph assigns itself (accounts get theirs from the configuration)."""

    UNKNOWN = "unknown"
    EXTERNAL = "external"  # accounts outside the organisation, federated identities, anyone
    IDENTITY_CENTER = "identity-center"  # Identity Center users


class ControlKind(StrEnum):
    """What stopped a candidate edge that evaluation refused (``auditor.graph.controls``)."""

    SCP = "scp"  # an SCP Deny, or no SCP allow at one level above the caller's account
    RCP = "rcp"  # an RCP Deny, or no RCP allow at one level above the role's account
    PERMISSIONS_BOUNDARY = "permissions-boundary"  # the caller's boundary does not allow (or denies) the call
    IDENTITY_DENY = "identity-deny"  # a Deny in the caller's (or its groups') identity policies
    RESOURCE_DENY = "resource-deny"  # a Deny in the role's trust policy
    TRUST_CONDITION = "trust-condition"  # the trust names the caller, but its condition is false for it
    MISSING_ALLOW = "missing-allow"  # the caller's identity policies (or the trust) do not allow the call


class LiftedBy(StrEnum):
    """Who can remove a control: how strong a fence it is against a compromised source account."""

    ORGANIZATION = "organization"  # the management account (SCPs, RCPs): no member account can lift it
    TARGET_ACCOUNT = "target-account"  # the account of the role (its trust policy)
    SOURCE_ACCOUNT = "source-account"  # the caller's own account (its policies, boundary): its admins can
