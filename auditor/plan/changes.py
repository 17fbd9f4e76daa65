"""The changes an isolation plan is made of, each appliable from its own fields: what it does to the snapshot
model (``--what-if``), its AWS CLI form, and its plan.json fields.

A change only takes access away: it removes an Allow (a trust principal, an identity statement, a policy
attachment, a group membership, an Identity Center assignment) or adds a Deny (an SCP). The plan never proposes
removing a group membership or a policy attachment that carries a Deny, so applying a change never opens a path.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from auditor.errors import UserError
from auditor.iam.policy import arn_account, normalise_aws_principal
from auditor.model import AccountSnapshot, IamData, IamGroup, IamRole, IamUser, OrgPolicy, Snapshot

StepKind = Literal[
    "remove-trust-principal",
    "remove-policy-statement",
    "detach-managed-policy",
    "remove-group-member",
    "delete-account-assignment",
    "attach-scp",
]
STEP_KINDS: tuple[StepKind, ...] = (
    "remove-trust-principal",
    "remove-policy-statement",
    "detach-managed-policy",
    "remove-group-member",
    "delete-account-assignment",
    "attach-scp",
)
# A trust policy left with no statement admits nobody; IAM needs at least one statement, so it keeps this one.
NOBODY_TRUSTED = {"Sid": "NoPrincipalTrusted", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
SCP_NAME_PREFIX = "auditor-isolate-"
_P = TypeVar("_P", IamUser, IamRole, IamGroup)
_T = TypeVar("_T")


class ChangeError(UserError):
    """A plan step that does not apply to the snapshot (it names something the snapshot does not hold)."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _statements(document: Mapping[str, Any]) -> list[Any]:
    listed = document.get("Statement", [])
    return list(listed) if isinstance(listed, list) else [listed]


def _name_of(arn: str) -> str:
    """The name of an IAM principal or policy from its ARN (the path is not part of the name)."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class RemoveTrustPrincipal:
    """Remove ``principal`` from every Allow statement of the role's trust policy."""

    role_arn: str
    principal: str
    kind: StepKind = field(default="remove-trust-principal", init=False)

    def fields(self) -> dict[str, Any]:
        return {"role_arn": self.role_arn, "principal": self.principal}

    def apply(self, snapshot: Snapshot) -> Snapshot:
        def change(iam: IamData) -> IamData:
            role = _find(iam.roles, self.role_arn, "role")
            document = without_trust_principal(role.trust_policy, self.principal)
            if document is None:
                raise ChangeError(f"the trust policy of {self.role_arn} does not name {self.principal}")
            return iam.model_copy(update={"roles": _replaced(iam.roles, role, role.model_copy(
                update={"trust_policy": document}))})

        return _change_iam(snapshot, self.role_arn, change)

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        role = _find(_iam(after, self.role_arn).roles, self.role_arn, "role")
        return _command("iam", "update-assume-role-policy", "--role-name", role.name,
                        "--policy-document", _canonical(role.trust_policy))


def without_trust_principal(document: Mapping[str, Any], principal: str) -> dict[str, Any] | None:
    """The trust policy with ``principal`` taken out of its Allow statements; None when none named it."""
    kept: list[Any] = []
    found = False
    for statement in _statements(document):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow" or "Principal" not in statement:
            kept.append(statement)
            continue
        element = statement["Principal"]
        if element == "*":
            if principal == "*":
                found = True
                continue
            kept.append(statement)
            continue
        if not isinstance(element, dict):
            kept.append(statement)
            continue
        remaining: dict[str, Any] = {}
        for kind, values in element.items():
            listed = values if isinstance(values, list) else [values]
            left = [v for v in listed if not _same_principal(kind, str(v), principal)]
            found = found or len(left) != len(listed)
            if left:
                remaining[kind] = left if isinstance(values, list) or len(left) > 1 else left[0]
        if remaining:
            kept.append({**statement, "Principal": remaining})
    if not found:
        return None
    return {**document, "Statement": kept or [NOBODY_TRUSTED]}


def _same_principal(kind: str, listed: str, principal: str) -> bool:
    if kind == "AWS":
        return normalise_aws_principal(listed) == normalise_aws_principal(principal)
    return listed.lower() == principal.lower()


@dataclass(frozen=True)
class RemovePolicyStatement:
    """Remove one statement (by Sid, else by its index) from a customer managed policy (``policy_arn``) or
    from an inline policy of a user, group or role (``principal_arn`` and ``policy_name``). ``statement`` is
    the statement as collected: when given, it identifies the statement even after others moved."""

    policy_arn: str | None = None
    principal_arn: str | None = None
    policy_name: str | None = None
    sid: str | None = None
    statement_index: int | None = None
    statement: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    kind: StepKind = field(default="remove-policy-statement", init=False)

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.policy_arn is not None:
            out["policy_arn"] = self.policy_arn
        else:
            out["principal_arn"] = self.principal_arn
            out["policy_name"] = self.policy_name
        if self.sid is not None:
            out["sid"] = self.sid
        else:
            out["statement_index"] = self.statement_index
        if self.statement is not None:
            out["statement"] = dict(self.statement)
        return out

    def _without(self, document: Mapping[str, Any], where: str) -> dict[str, Any]:
        statements = _statements(document)
        index = self._index(statements)
        if index is None:
            raise ChangeError(f"{where} has no statement {self.label()}")
        return {**document, "Statement": statements[:index] + statements[index + 1:]}

    def _index(self, statements: list[Any]) -> int | None:
        if self.sid is not None:
            return next((i for i, st in enumerate(statements) if isinstance(st, dict) and st.get("Sid") == self.sid),
                        None)
        if self.statement is not None:
            wanted = _canonical(self.statement)
            at = self.statement_index
            if at is not None and 0 <= at < len(statements) and _canonical(statements[at]) == wanted:
                return at
            return next((i for i, st in enumerate(statements) if _canonical(st) == wanted), None)
        at = self.statement_index
        return at if at is not None and 0 <= at < len(statements) else None

    def label(self) -> str:
        return f"Sid {self.sid!r}" if self.sid is not None else f"#{self.statement_index}"

    def apply(self, snapshot: Snapshot) -> Snapshot:
        if self.policy_arn is not None:
            arn = self.policy_arn

            def change_managed(iam: IamData) -> IamData:
                policy = next((p for p in iam.policies if p.arn == arn), None)
                if policy is None or policy.aws_managed:
                    raise ChangeError(f"customer managed policy {arn} is not in the snapshot")
                updated = policy.model_copy(update={"document": self._without(policy.document, arn)})
                return iam.model_copy(update={"policies": _replaced(iam.policies, policy, updated)})

            return _change_iam(snapshot, arn, change_managed)
        owner = self.principal_arn or ""

        def change_inline(iam: IamData) -> IamData:
            holder = _find_principal(iam, owner)
            policy = next((p for p in holder.inline_policies if p.name == self.policy_name), None)
            if policy is None:
                raise ChangeError(f"{owner} has no inline policy {self.policy_name!r}")
            document = self._without(policy.document, f"inline policy {self.policy_name!r} of {owner}")
            inline = tuple(p for p in holder.inline_policies if p is not policy)
            if _statements(document):
                inline = tuple(p.model_copy(update={"document": document}) if p is policy else p
                               for p in holder.inline_policies)
            return _replace_principal(iam, holder, holder.model_copy(update={"inline_policies": inline}))

        return _change_iam(snapshot, owner, change_inline)

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        if self.policy_arn is not None:
            policy = next(p for p in _iam(after, self.policy_arn).policies if p.arn == self.policy_arn)
            return _command("iam", "create-policy-version", "--policy-arn", self.policy_arn,
                            "--policy-document", _canonical(policy.document), "--set-as-default")
        owner = self.principal_arn or ""
        holder = _find_principal(_iam(after, owner), owner)
        kind = _principal_kind(owner)
        left = next((p for p in holder.inline_policies if p.name == self.policy_name), None)
        if left is None:
            return _command("iam", f"delete-{kind}-policy", f"--{kind}-name", holder.name,
                            "--policy-name", self.policy_name or "")
        return _command("iam", f"put-{kind}-policy", f"--{kind}-name", holder.name, "--policy-name", left.name,
                        "--policy-document", _canonical(left.document))


@dataclass(frozen=True)
class DetachManagedPolicy:
    principal_arn: str
    policy_arn: str
    kind: StepKind = field(default="detach-managed-policy", init=False)

    def fields(self) -> dict[str, Any]:
        return {"principal_arn": self.principal_arn, "policy_arn": self.policy_arn}

    def apply(self, snapshot: Snapshot) -> Snapshot:
        def change(iam: IamData) -> IamData:
            holder = _find_principal(iam, self.principal_arn)
            if self.policy_arn not in holder.attached_policy_arns:
                raise ChangeError(f"{self.policy_arn} is not attached to {self.principal_arn}")
            attached = tuple(a for a in holder.attached_policy_arns if a != self.policy_arn)
            return _replace_principal(iam, holder, holder.model_copy(update={"attached_policy_arns": attached}))

        return _change_iam(snapshot, self.principal_arn, change)

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        kind = _principal_kind(self.principal_arn)
        holder = _find_principal(_iam(before, self.principal_arn), self.principal_arn)
        return _command("iam", f"detach-{kind}-policy", f"--{kind}-name", holder.name, "--policy-arn", self.policy_arn)


@dataclass(frozen=True)
class RemoveGroupMember:
    group_arn: str
    user_arn: str
    kind: StepKind = field(default="remove-group-member", init=False)

    def fields(self) -> dict[str, Any]:
        return {"group_arn": self.group_arn, "user_arn": self.user_arn}

    def apply(self, snapshot: Snapshot) -> Snapshot:
        def change(iam: IamData) -> IamData:
            group = _find(iam.groups, self.group_arn, "group")
            user = _find(iam.users, self.user_arn, "user")
            if group.name not in user.group_names:
                raise ChangeError(f"{self.user_arn} is not a member of {self.group_arn}")
            names = tuple(n for n in user.group_names if n != group.name)
            return iam.model_copy(update={"users": _replaced(iam.users, user, user.model_copy(
                update={"group_names": names}))})

        return _change_iam(snapshot, self.user_arn, change)

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        iam = _iam(before, self.user_arn)
        group = _find(iam.groups, self.group_arn, "group")
        user = _find(iam.users, self.user_arn, "user")
        return _command("iam", "remove-user-from-group", "--group-name", group.name, "--user-name", user.name)


@dataclass(frozen=True)
class DeleteAccountAssignment:
    instance_arn: str
    account_id: str
    permission_set_arn: str
    principal_type: Literal["USER", "GROUP"]
    principal_id: str
    kind: StepKind = field(default="delete-account-assignment", init=False)

    def fields(self) -> dict[str, Any]:
        return {
            "instance_arn": self.instance_arn,
            "account_id": self.account_id,
            "permission_set_arn": self.permission_set_arn,
            "principal_type": self.principal_type,
            "principal_id": self.principal_id,
        }

    def apply(self, snapshot: Snapshot) -> Snapshot:
        org = snapshot.organization
        center = org.identity_center if org else None
        if org is None or center is None or center.instance_arn != self.instance_arn:
            raise ChangeError(f"Identity Center instance {self.instance_arn} is not in the snapshot")
        kept = tuple(
            a for a in center.assignments
            if (a.account_id, a.permission_set_arn, a.principal_type, a.principal_id)
            != (self.account_id, self.permission_set_arn, self.principal_type, self.principal_id)
        )
        if len(kept) == len(center.assignments):
            raise ChangeError(f"no assignment of {self.permission_set_arn} to {self.principal_type} "
                              f"{self.principal_id} in account {self.account_id}")
        updated = org.model_copy(update={"identity_center": center.model_copy(update={"assignments": kept})})
        return snapshot.model_copy(update={"organization": updated})

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        return _command("sso-admin", "delete-account-assignment", "--instance-arn", self.instance_arn,
                        "--target-id", self.account_id, "--target-type", "AWS_ACCOUNT",
                        "--permission-set-arn", self.permission_set_arn, "--principal-type", self.principal_type,
                        "--principal-id", self.principal_id)


@dataclass(frozen=True)
class AttachScp:
    """Create a service control policy with ``policy_document`` and attach it to an OU or account."""

    target_id: str
    policy_document: Mapping[str, Any] = field(compare=False, hash=False)
    kind: StepKind = field(default="attach-scp", init=False)
    _key: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _canonical(self.policy_document))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AttachScp) and (self.target_id, self._key) == (other.target_id, other._key)

    def __hash__(self) -> int:
        return hash((self.target_id, self._key))

    def fields(self) -> dict[str, Any]:
        return {"target_id": self.target_id, "policy_document": dict(self.policy_document)}

    @property
    def policy_name(self) -> str:
        return SCP_NAME_PREFIX + self.target_id

    def apply(self, snapshot: Snapshot) -> Snapshot:
        org = snapshot.organization
        if org is None:
            raise ChangeError("the snapshot has no organisation to attach an SCP in")
        known = {org.root_id, *(ou.id for ou in org.organizational_units), *(a.id for a in org.accounts)}
        if self.target_id not in known:
            raise ChangeError(f"SCP target {self.target_id} is not an OU or account of the organisation")
        number = sum(p.type == "SERVICE_CONTROL_POLICY" for p in org.policies)
        policy_id = f"p-plan{number:04d}"
        policy = OrgPolicy(
            id=policy_id,
            arn=f"arn:aws:organizations::{org.management_account_id}:policy/{org.id}/service_control_policy/{policy_id}",
            name=self.policy_name,
            type="SERVICE_CONTROL_POLICY",
            document=dict(self.policy_document),
            target_ids=(self.target_id,),
        )
        updated = org.model_copy(update={"policies": (*org.policies, policy)})
        return snapshot.model_copy(update={"organization": updated})

    def cli(self, before: Snapshot, after: Snapshot) -> str:
        create = _command("organizations", "create-policy", "--type", "SERVICE_CONTROL_POLICY",
                          "--name", self.policy_name,
                          "--description", "Isolation plan: deny this target assuming roles in production",
                          "--content", _canonical(self.policy_document),
                          "--query", "Policy.PolicySummary.Id", "--output", "text")
        attach = _command("organizations", "attach-policy", "--target-id", self.target_id)
        return f'POLICY_ID=$({create}) && {attach} --policy-id "$POLICY_ID"'


Change = (
    RemoveTrustPrincipal
    | RemovePolicyStatement
    | DetachManagedPolicy
    | RemoveGroupMember
    | DeleteAccountAssignment
    | AttachScp
)


def change_from_json(step: Mapping[str, Any]) -> Change:
    """The change a plan.json step describes (the document was validated against the schema first)."""
    kind = step["kind"]
    if kind == "remove-trust-principal":
        return RemoveTrustPrincipal(step["role_arn"], step["principal"])
    if kind == "remove-policy-statement":
        return RemovePolicyStatement(
            policy_arn=step.get("policy_arn"),
            principal_arn=step.get("principal_arn"),
            policy_name=step.get("policy_name"),
            sid=step.get("sid"),
            statement_index=step.get("statement_index"),
            statement=step.get("statement"),
        )
    if kind == "detach-managed-policy":
        return DetachManagedPolicy(step["principal_arn"], step["policy_arn"])
    if kind == "remove-group-member":
        return RemoveGroupMember(step["group_arn"], step["user_arn"])
    if kind == "delete-account-assignment":
        return DeleteAccountAssignment(step["instance_arn"], step["account_id"], step["permission_set_arn"],
                                       step["principal_type"], step["principal_id"])
    if kind == "attach-scp":
        return AttachScp(step["target_id"], step["policy_document"])
    raise ChangeError(f"unknown step kind {kind!r}")


def change_key(change: Change) -> str:
    """A stable text identity of a change (its kind and fields, canonical JSON)."""
    fields = change.fields()
    fields.pop("statement", None)
    return f"{change.kind} {_canonical(fields)}"


# --- snapshot plumbing --------------------------------------------------------------------------------


def _command(*words: str) -> str:
    return "aws " + " ".join(shlex.quote(w) for w in words)


def _principal_kind(arn: str) -> Literal["user", "role", "group"]:
    resource = arn.split(":", 5)[-1]
    for kind in ("user", "role", "group"):
        if resource.startswith(f"{kind}/"):
            return kind
    raise ChangeError(f"{arn} is not the ARN of an IAM user, group or role")


def _iam(snapshot: Snapshot, arn: str) -> IamData:
    account_id = arn_account(arn)
    account = snapshot.account(account_id) if account_id else None
    if account is None or account.iam is None:
        raise ChangeError(f"account {account_id or '?'} of {arn} is not in the snapshot (or its IAM was not collected)")
    return account.iam


def _change_iam(snapshot: Snapshot, arn: str, change: Callable[[IamData], IamData]) -> Snapshot:
    account_id = arn_account(arn)
    iam = _iam(snapshot, arn)
    updated = change(iam)

    def replace(account: AccountSnapshot) -> AccountSnapshot:
        return account.model_copy(update={"iam": updated}) if account.account_id == account_id else account

    return snapshot.model_copy(update={"accounts": tuple(replace(a) for a in snapshot.accounts)})


def _find(items: tuple[_P, ...], arn: str, what: str) -> _P:
    found = next((item for item in items if item.arn == arn), None)
    if found is None:
        raise ChangeError(f"{what} {arn} is not in the snapshot")
    return found


def _find_principal(iam: IamData, arn: str) -> IamUser | IamRole | IamGroup:
    kind = _principal_kind(arn)
    if kind == "user":
        return _find(iam.users, arn, "user")
    if kind == "role":
        return _find(iam.roles, arn, "role")
    return _find(iam.groups, arn, "group")


def _replaced(items: tuple[_T, ...], old: _T, new: _T) -> tuple[_T, ...]:
    return tuple(new if item is old else item for item in items)


def _replace_principal(
    iam: IamData, old: IamUser | IamRole | IamGroup, new: IamUser | IamRole | IamGroup
) -> IamData:
    if isinstance(old, IamUser) and isinstance(new, IamUser):
        return iam.model_copy(update={"users": _replaced(iam.users, old, new)})
    if isinstance(old, IamRole) and isinstance(new, IamRole):
        return iam.model_copy(update={"roles": _replaced(iam.roles, old, new)})
    if isinstance(old, IamGroup) and isinstance(new, IamGroup):
        return iam.model_copy(update={"groups": _replaced(iam.groups, old, new)})
    raise TypeError("a principal is replaced by one of its own kind")
