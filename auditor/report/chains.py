"""Path chains for report.html (issue 12 §4): what each box and arrow of a drawn access path says.

An access path (a finding's example path, or a path a control blocks) is drawn in the page as a chain: one box
per principal (its name, its account, the account's environment) and one arrow per hop (the permission used
and the statement that grants it). This module decides those words from the paths as findings.json carries
them; the page's script (``reports/templates/report.js``, block "path chains") only lays them out as inline
SVG, building every node with ``createElementNS``/``textContent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from auditor.graph.kinds import EdgeKind, Environment
from auditor.iam.policy import arn_account

LABEL_CHARS = 60  # a statement label longer than this is cut (the evidence below the picture holds it whole)


@dataclass(frozen=True)
class ChainNode:
    id: str  # the principal's ARN (or the account id for "administrator of the account")
    label: str  # what the box says: the principal's name
    kind: str  # user | role | group | account-root | administrator | service | federated | anyone | ...
    account_id: str | None
    environment: str


@dataclass(frozen=True)
class ChainArrow:
    permission: str  # the action or technique used (sts:AssumeRole, iam:PassRole+ec2:RunInstances, ...)
    statement: str  # the statement that grants it (policy and Sid)
    kind: str  # the hop's edge kind
    conditional: bool = False  # allowed only under conditions the auditor could not decide
    blocked_by: str | None = None  # the control that refuses this hop (paths a control blocks)
    root_cause: bool = False  # the hop the finding is about (its ``root_cause``)


@dataclass(frozen=True)
class Chain:
    nodes: tuple[ChainNode, ...]
    arrows: tuple[ChainArrow, ...]  # arrows[i] joins nodes[i] to nodes[i + 1]

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "arrows": [{k: v for k, v in asdict(a).items() if v not in (None, False)} for a in self.arrows],
        }


# --- boxes ------------------------------------------------------------------------------------------------------


def node_of(node: str, environments: Mapping[str, str], *, is_last: bool = False,
            environment: str | None = None) -> ChainNode:
    """A box for a path node: an IAM principal ARN, an account id (administrator of it), a service principal,
    a federated provider or ``*``. ``environments``: account id -> environment of the organisation's accounts;
    ``environment``: the path's own answer for this node (its source or target environment), when it has one."""
    account = arn_account(node)
    if node == "*":
        return ChainNode(node, "anyone", "anyone", None, environment or str(Environment.EXTERNAL))
    if account is not None and account == node:  # a bare account id: the path ends at its administrator
        kind, label = "administrator", "administrator"
    elif account is not None and node.endswith(":root"):
        kind, label = "account-root", "account root (its principals)"
    elif node.startswith("arn:"):
        resource = node.split(":", 5)[5] if node.count(":") >= 5 else node
        kind, _, rest = resource.partition("/")
        label = rest.rsplit("/", 1)[-1] if rest else resource
        if kind in ("saml-provider", "oidc-provider"):
            kind = "federated"
    elif "." in node and not is_last:  # ec2.amazonaws.com, accounts.google.com
        kind, label = "service", node
    else:
        kind, label = "principal", node
    if environment is None:
        if account is None:
            environment = str(Environment.EXTERNAL) if kind in ("service", "federated") else str(Environment.UNKNOWN)
        else:
            environment = environments.get(account, str(Environment.EXTERNAL))
    return ChainNode(node, label, kind, account, environment)


# --- arrows -----------------------------------------------------------------------------------------------------


def _cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sid(statement: object) -> str | None:
    if isinstance(statement, Mapping):
        sid = statement.get("Sid")
        if isinstance(sid, str) and sid:
            return sid
    return None


def policy_label(policy: str, policy_kind: str, statement: object) -> str:
    """``AdministratorAccess (aws-managed)``, ``inline ops, Sid AllowAll``: the statement a hop uses."""
    name = policy.rsplit("/", 1)[-1] if policy.startswith("arn:") else policy
    where = {"inline": "inline", "group-inline": "group inline", "group-managed": "group managed"}.get(
        policy_kind, policy_kind)
    sid = _sid(statement)
    return f"{name} ({where})" + (f", Sid {sid}" if sid else "")


def _granting(evidence: Mapping[str, Any], key: str) -> str:
    """The first granting statement of ``evidence[key]`` (a list of {policy, policy_kind, statement})."""
    refs = evidence.get(key)
    if isinstance(refs, list) and refs and isinstance(refs[0], Mapping):
        first = refs[0]
        label = policy_label(str(first.get("policy", "")), str(first.get("policy_kind", "")), first.get("statement"))
        return label + (f" (+{len(refs) - 1} more)" if len(refs) > 1 else "")
    return ""


def trust_label(evidence: Mapping[str, Any]) -> str:
    """``trust policy, Sid X`` (and the caller's identity statement when it names one)."""
    sid = _sid(evidence.get("trust_statement"))
    text = "trust policy" + (f", Sid {sid}" if sid else "")
    identity_sid = _sid(evidence.get("identity_statement"))
    if identity_sid:
        text += f"; identity Sid {identity_sid}"
    return text


def arrow_of(hop: Mapping[str, Any]) -> ChainArrow:
    """The words on the arrow of one hop ({source, target, kind, evidence} as findings.json has it)."""
    kind = str(hop.get("kind", ""))
    raw = hop.get("evidence")
    evidence: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    conditional = bool(evidence.get("conditional"))
    if kind == EdgeKind.CAN_ASSUME:
        permission, statement = str(evidence.get("action") or "sts:AssumeRole"), trust_label(evidence)
    elif kind == EdgeKind.IS_ADMIN_OF:
        level = str(evidence.get("level", "admin"))
        services = evidence.get("services") or []
        permission = f"{level} ({', '.join(map(str, services))}:*)" if services else level
        statement = _granting(evidence, "evidence")
    elif kind == EdgeKind.CAN_ESCALATE_TO:
        permission = str(evidence.get("technique_name") or evidence.get("technique_id") or "escalation")
        statement = _granting(evidence, "statements")
    elif kind == EdgeKind.CONTROLS:
        permission, statement = "administers its account root", "trusts naming the account"
    elif kind == EdgeKind.MEMBER_OF:
        permission, statement = "group membership", ""
    else:
        permission, statement = kind or "edge", ""
    return ChainArrow(_cut(permission), _cut(statement), kind, conditional)


# --- whole chains -----------------------------------------------------------------------------------------------


def _hops(path: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    hops = path.get("hops")
    return [h for h in hops if isinstance(h, Mapping)] if isinstance(hops, list) else []


def path_chain(path: Mapping[str, Any], environments: Mapping[str, str],
               root_cause: tuple[str, str] | None = None) -> Chain:
    """A finding's example path ({source, source_environment, target_environment, hops}) as a chain; the hop
    from ``root_cause[0]`` to ``root_cause[1]`` is marked as the finding's root cause."""
    hops = _hops(path)
    if not hops:
        return Chain((), ())
    names = [str(hops[0].get("source", "")), *(str(h.get("target", "")) for h in hops)]
    last = len(names) - 1
    nodes = tuple(
        node_of(name, environments, is_last=i == last,
                environment=_path_environment(path, i, last))
        for i, name in enumerate(names)
    )
    arrows = tuple(
        replace(arrow, root_cause=True)
        if root_cause is not None and (str(h.get("source")), str(h.get("target"))) == root_cause else arrow
        for h, arrow in ((h, arrow_of(h)) for h in hops)
    )
    return Chain(nodes, arrows)


def _path_environment(path: Mapping[str, Any], index: int, last: int) -> str | None:
    """The environment a path states for its source (first node) and target (administrator, last node)."""
    key = "source_environment" if index == 0 else ("target_environment" if index == last else None)
    value = path.get(key) if key else None
    return str(value) if value else None


def blocked_chain(path: Mapping[str, Any], control_name: str, environments: Mapping[str, str]) -> Chain:
    """A path a control blocks (findings.json ``controls[].paths[]``): the refused hop (source -> role), drawn
    with the control that stops it, then the role's own path to administrator."""
    source = str(path.get("source", ""))
    role = str(path.get("role_arn", ""))
    hops = _hops(path)
    names = [source, role, *(str(h.get("target", "")) for h in hops)]
    last = len(names) - 1
    nodes = tuple(
        node_of(name, environments, is_last=i == last and bool(hops),
                environment=_blocked_environment(path, i, last, bool(hops)))
        for i, name in enumerate(names)
    )
    refused = ChainArrow(
        _cut(str(path.get("action") or "sts:AssumeRole")),
        _cut(trust_label({"trust_statement": path.get("trust_statement")})),
        str(EdgeKind.CAN_ASSUME),
        blocked_by=_cut(control_name),
    )
    return Chain(nodes, (refused, *(arrow_of(h) for h in hops)))


def _blocked_environment(path: Mapping[str, Any], index: int, last: int, onward: bool) -> str | None:
    if index == 0:
        value = path.get("source_environment")
    elif index == last and onward:
        value = path.get("target_environment")
    else:
        value = None
    return str(value) if value else None


def with_chains(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the findings document in which every example path and every blocked path carries its ``chain``
    (the report embeds this copy; findings.json itself is unchanged)."""
    environments = {str(a["id"]): str(a.get("environment", "")) for a in document.get("accounts", [])}
    out = dict(document)

    def finding(f: Mapping[str, Any]) -> Mapping[str, Any]:
        paths = f.get("example_paths")
        if not isinstance(paths, list) or not paths:
            return f
        cause = f.get("root_cause")
        hop = (str(cause.get("source")), str(cause.get("target"))) if isinstance(cause, Mapping) else None
        return {**f, "example_paths": [{**p, "chain": path_chain(p, environments, hop).to_json()} for p in paths]}

    for key in ("findings", "suppressed_findings"):
        if isinstance(document.get(key), list):
            out[key] = [finding(f) for f in document[key]]
    if isinstance(document.get("controls"), list):
        out["controls"] = [
            {**c, "paths": [{**p, "chain": blocked_chain(p, str(c.get("name", "")), environments).to_json()}
                            for p in c.get("paths", [])]}
            for c in document["controls"]
        ]
    return out
