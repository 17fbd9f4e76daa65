"""The organisation picture of report.html (issue 12 §4): accounts grouped by environment, the root-cause edges
between them, the isolation plan's cuts, and the edges a control blocks. Drawn here as inline SVG (no script,
no library at view time); every string from AWS (account names, ARNs, policy names) is escaped.

Edges join accounts, not principals: a root cause (``findings[].root_cause``) is the hop that bridges a boundary
and joins the accounts of its two ends; a plan step's ``cut_edges`` and a control's refused hops likewise. Edges
between the same two accounts are drawn once per kind, with their count. Hops inside one account are shown as
counts on the account's box.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from markupsafe import Markup, escape

from auditor.findings import SEVERITY_RANK
from auditor.graph.kinds import Environment
from auditor.graph.records import Control
from auditor.iam.policy import arn_account
from auditor.result import AccountView

# Left to right: where paths start, then where they must not arrive.
COLUMN_ORDER: tuple[str, ...] = (str(Environment.EXTERNAL), str(Environment.IDENTITY_CENTER), "sandbox", "non-prod",
                                 str(Environment.UNKNOWN), "security", "management", "prod")
SHOW_ALL_ACCOUNTS = 60  # above this, accounts with no edge are counted per environment instead of drawn
MAX_EDGES = 400  # edges drawn at most (cuts first, then open root causes by severity, then blocked)
LABELLED_EDGES = 40  # with more edges than this, labels move into each edge's tooltip
NAME_CHARS = 24

BOX_W, BOX_H, PITCH = 176, 36, 46
COL_GAP, MARGIN, HEADER = 150, 16, 34


class LinkKind(StrEnum):
    ROOT_CAUSE = "root-cause"  # a finding's root cause the plan leaves open
    CUT = "cut"  # a root cause (or another edge) the isolation plan removes
    BLOCKED = "blocked"  # a trust a control refuses: the control holds
    BYPASSED = "bypassed"  # a trust a control refuses, but its sources reach the same admin another way


DRAW_ORDER = (LinkKind.CUT, LinkKind.ROOT_CAUSE, LinkKind.BYPASSED, LinkKind.BLOCKED)


@dataclass(frozen=True)
class PlanCut:
    """One isolation-plan step as the picture needs it (``plan.json`` steps[])."""

    rank: int
    edges: tuple[tuple[str, str], ...]  # access-graph edges (source node, target node) the step removes
    closes: tuple[str, ...] = ()  # finding ids it closes


@dataclass
class Box:
    key: str  # account id, or "~" + the principal for principals outside any account ("*", services)
    label: str
    sub: str
    environment: str
    inside: list[str] = field(default_factory=list)  # in-account root causes, cuts and blocks (tooltip)
    x: int = 0
    y: int = 0


@dataclass
class Link:
    source: str
    target: str
    kind: LinkKind
    labels: list[str] = field(default_factory=list)
    count: int = 0
    severity: str | None = None  # root causes: the worst finding's


@dataclass(frozen=True)
class Picture:
    svg: Markup
    boxes: tuple[Box, ...]
    edges: tuple[Link, ...]  # drawn, in drawing order
    omitted_edges: int
    folded_accounts: dict[str, int]  # environment -> accounts without edges not drawn


def _key(node: str) -> str:
    account = arn_account(node)
    return account if account is not None else "~" + node


def _name(text: str, limit: int = NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _column_rank(environment: str) -> tuple[int, str]:
    if environment in COLUMN_ORDER:
        return (COLUMN_ORDER.index(environment), environment)
    return (COLUMN_ORDER.index("prod") - 1, environment)  # other environments sit just before production


class _Builder:
    def __init__(self, accounts: Sequence[AccountView]) -> None:
        self.accounts = {a.id: a for a in accounts}
        self.boxes: dict[str, Box] = {}
        self.edges: dict[tuple[str, str, LinkKind], Link] = {}
        self.involved: set[str] = set()

    def box(self, key: str) -> Box:
        found = self.boxes.get(key)
        if found is None:
            account = self.accounts.get(key)
            if account is not None:
                found = Box(key, account.name or key, key, account.environment)
            elif key.startswith("~"):
                principal = key[1:]
                found = Box(key, "anyone (*)" if principal == "*" else principal, "outside any account",
                            str(Environment.EXTERNAL))
            else:
                found = Box(key, key, "outside the organisation", str(Environment.EXTERNAL))
            self.boxes[key] = found
        self.involved.add(key)
        return found

    def edge(self, source_node: str, target_node: str, kind: LinkKind, label: str,
             severity: str | None = None) -> None:
        source, target = _key(source_node), _key(target_node)
        if source == target:  # inside one account: a count on its box
            self.box(source).inside.append(f"{kind}: {label}")
            return
        self.box(source)
        self.box(target)
        edge = self.edges.setdefault((source, target, kind), Link(source, target, kind))
        edge.count += 1
        if label not in edge.labels:
            edge.labels.append(label)
        if severity and (edge.severity is None or SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK.get(edge.severity, 0)):
            edge.severity = severity


def organisation_picture(
    accounts: Sequence[AccountView],
    findings: Iterable[Mapping[str, Any]],
    controls: Iterable[Control] = (),
    cuts: Iterable[PlanCut] = (),
) -> Picture:
    """The picture of an organisation: ``findings`` as findings.json has them (those with a ``root_cause`` are
    drawn), ``controls`` with every path they block, ``cuts`` the isolation plan's steps."""
    builder = _Builder(accounts)
    cut_steps: dict[tuple[str, str], list[int]] = defaultdict(list)
    closed_by: dict[str, list[int]] = defaultdict(list)
    for cut in cuts:
        for pair in cut.edges:
            cut_steps[pair].append(cut.rank)
        for finding_id in cut.closes:
            closed_by[finding_id].append(cut.rank)

    drawn_cuts: set[tuple[str, str]] = set()
    for finding in findings:
        cause = finding.get("root_cause")
        if not isinstance(cause, Mapping):
            continue
        hop = (str(cause.get("source", "")), str(cause.get("target", "")))
        steps = sorted(set(cut_steps.get(hop, []) + closed_by.get(str(finding.get("id")), [])))
        label = (f"{finding.get('rule_id', '')} {cause.get('kind', '')} {_short(hop[0])} → {_short(hop[1])}: "
                 f"{_principal_count(finding)}")
        if steps:
            drawn_cuts.add(hop)
            builder.edge(*hop, LinkKind.CUT, f"{label}; plan step {', '.join(map(str, steps))}")
        else:
            builder.edge(*hop, LinkKind.ROOT_CAUSE, label, str(finding.get("severity", "")))
    for pair, ranks in cut_steps.items():  # cuts elsewhere than a finding's root cause
        if pair not in drawn_cuts:
            builder.edge(*pair, LinkKind.CUT, f"plan step {', '.join(map(str, sorted(set(ranks))))}")
    for control in controls:
        name = f"{control.guardrail.kind} {control.guardrail.name}"
        for path in control.paths:
            kind = LinkKind.BYPASSED if path.bypassed else LinkKind.BLOCKED
            source = path.blocked.source_account_id or path.blocked.source
            builder.edge(source, path.blocked.target_account_id, kind, name)
    return _layout(builder)


def _short(node: str) -> str:
    """A principal's name (the ARN's last path segment), an account id, or the node as it is."""
    return node.rsplit("/", 1)[-1] if node.startswith("arn:") and "/" in node else node


def _principal_count(finding: Mapping[str, Any]) -> str:
    radius = finding.get("blast_radius")
    if isinstance(radius, Mapping) and isinstance(radius.get("principals"), int):
        return f"{radius['principals']} principal(s)"
    return "1 path"


def _layout(builder: _Builder) -> Picture:
    show_all = len(builder.accounts) <= SHOW_ALL_ACCOUNTS
    folded: dict[str, int] = defaultdict(int)
    for account in builder.accounts.values():
        if show_all:
            builder.box(account.id)
        elif account.id not in builder.involved:
            folded[account.environment] += 1
    columns: dict[str, list[Box]] = defaultdict(list)
    for box in builder.boxes.values():
        columns[box.environment].append(box)
    for env in folded:
        columns.setdefault(env, [])
    order = sorted(columns, key=_column_rank)
    for index, env in enumerate(order):
        columns[env].sort(key=lambda b: (b.key.startswith("~"), b.label.lower(), b.key))
        for row, box in enumerate(columns[env]):
            box.x = MARGIN + index * (BOX_W + COL_GAP)
            box.y = MARGIN + HEADER + row * PITCH
    ranked = sorted(builder.edges.values(), key=lambda e: (
        DRAW_ORDER.index(e.kind), -SEVERITY_RANK.get(e.severity or "", -1), -e.count, e.source, e.target))
    drawn, omitted = ranked[:MAX_EDGES], max(0, len(ranked) - MAX_EDGES)
    rows = max([len(c) + (1 if folded.get(env) else 0) for env, c in columns.items()] or [0])
    width = MARGIN * 2 + max(1, len(order)) * (BOX_W + COL_GAP) - COL_GAP
    height = MARGIN * 2 + HEADER + max(1, rows) * PITCH
    svg = _svg(order, columns, drawn, folded, width, height, builder.boxes)
    return Picture(svg, tuple(builder.boxes.values()), tuple(drawn), omitted, dict(folded))


# --- SVG ----------------------------------------------------------------------------------------------------------


def _attr(value: object) -> str:
    return str(escape(str(value)))


_CLASS_SAFE = re.compile(r"[^a-z0-9-]")


def _css(value: str) -> str:
    """An environment or kind as a class name (attacker-influenced environment names stay inert)."""
    return _CLASS_SAFE.sub("-", value.lower())


STUB = 18  # straight ends of an edge, so arrowheads and labels sit clear of the curve


def _ports(edges: Sequence[Link], boxes: Mapping[str, Box]) -> dict[tuple[int, str], float]:
    """Where each edge leaves its source and enters its target: spread along the box's side, in the order of
    the other ends, so edges into one box do not share a point. Key: (edge index, "out" | "in")."""
    outgoing: dict[str, list[int]] = defaultdict(list)
    incoming: dict[str, list[int]] = defaultdict(list)
    for index, edge in enumerate(edges):
        outgoing[edge.source].append(index)
        incoming[edge.target].append(index)
    ports: dict[tuple[int, str], float] = {}
    for side, ends, other in (("out", outgoing, "target"), ("in", incoming, "source")):
        for key, indexes in ends.items():
            indexes.sort(key=lambda i: (boxes[getattr(edges[i], other)].y, boxes[getattr(edges[i], other)].x, i))
            box = boxes[key]
            for rank, index in enumerate(indexes):
                ports[(index, side)] = box.y + 4 + (BOX_H - 8) * (rank + 1) / (len(indexes) + 1)
    return ports


def _edge_path(a: Box, b: Box, ay: float, by: float) -> tuple[str, float, float, str]:
    """The edge from box a to box b (a curve between two short straight ends) and where its label goes: at the
    target's end, in the gap beside it (x, y, text-anchor)."""
    if a.x == b.x:  # same column: a loop out to the right
        x0 = x1 = a.x + BOX_W
        bulge = STUB + 30 + min(60, abs(by - ay) / 4)
        d = (f"M{x0},{ay:.1f} h{STUB} C{x0 + bulge:.1f},{ay:.1f} {x1 + bulge:.1f},{by:.1f} {x1 + STUB},{by:.1f} "
             f"H{x1}")
        return d, x1 + bulge + 4, (ay + by) / 2, "start"
    forward = b.x > a.x
    x0 = a.x + BOX_W if forward else a.x
    x1 = b.x if forward else b.x + BOX_W
    step = STUB if forward else -STUB
    s0, s1 = x0 + step, x1 - step
    dx = (s1 - s0) / 2
    d = f"M{x0},{ay:.1f} H{s0} C{s0 + dx:.1f},{ay:.1f} {s1 - dx:.1f},{by:.1f} {s1},{by:.1f} H{x1}"
    return d, (x1 - 8 if forward else x1 + 8), by - 4, ("end" if forward else "start")


# Words, not symbols: a glyph missing from the system's fonts stalls rendering while a fallback is searched for.
_GLYPH = {LinkKind.CUT: "cut: ", LinkKind.BLOCKED: "blocked: ", LinkKind.BYPASSED: "bypassed: ",
          LinkKind.ROOT_CAUSE: ""}
_MEANING = {
    LinkKind.ROOT_CAUSE: "root cause (open)",
    LinkKind.CUT: "cut by the isolation plan",
    LinkKind.BLOCKED: "blocked by a control that holds",
    LinkKind.BYPASSED: "blocked by a control, but bypassed",
}


def edge_title(edge: Link, boxes: Mapping[str, Box]) -> str:
    source, target = boxes[edge.source], boxes[edge.target]
    return (f"{source.label} ({edge.source.lstrip('~')}) → {target.label} ({edge.target.lstrip('~')}): "
            f"{_MEANING[edge.kind]}, {edge.count} × " + "; ".join(edge.labels))


def _svg(order: list[str], columns: Mapping[str, list[Box]], edges: Sequence[Link], folded: Mapping[str, int],
         width: int, height: int, boxes: Mapping[str, Box]) -> Markup:
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="org-picture" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="org-picture-title">',
        '<title id="org-picture-title">Accounts by environment, with root-cause edges, the plan\'s cuts and '
        'the edges controls block</title>',
        "<defs>",
    ]
    for kind in LinkKind:
        out.append(f'<marker id="org-arrow-{kind}" class="org-marker-{kind}" viewBox="0 0 10 10" refX="9" '
                   'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
                   '<path d="M0,0 L10,5 L0,10 z"/></marker>')
    out.append("</defs>")
    shapes, labels = _edges_svg(edges, boxes)
    out.extend(shapes)  # under the boxes: an edge crossing a column passes behind its accounts
    for index, env in enumerate(order):
        x = MARGIN + index * (BOX_W + COL_GAP)
        out.append(f'<g class="org-column" data-environment="{_attr(env)}">'
                   f'<text class="org-env env-{_attr(_css(env))}" x="{x}" y="{MARGIN + 14}">{escape(env)}</text>')
        for box in columns[env]:
            inside = f" · {len(box.inside)} inside" if box.inside else ""
            tooltip = "\n".join([f"{box.label} ({box.key.lstrip('~')}), {env}", *box.inside])
            out.append(
                f'<g class="org-account" data-account="{_attr(box.key)}" transform="translate({box.x},{box.y})">'
                f"<title>{escape(tooltip)}</title>"
                f'<rect class="org-box env-{_attr(_css(box.environment))}" width="{BOX_W}" height="{BOX_H}" rx="5"/>'
                f'<text class="org-name" x="8" y="15">{escape(_name(box.label))}</text>'
                f'<text class="org-sub" x="8" y="29">{escape(_name(box.sub + inside, 30))}</text></g>'
            )
        if folded.get(env):
            y = MARGIN + HEADER + len(columns[env]) * PITCH + 14
            out.append(f'<text class="org-folded" x="{x}" y="{y}">+ {folded[env]} account(s) with no edge</text>')
        out.append("</g>")
    out.extend(labels)  # over the boxes, on a halo
    out.append("</svg>")
    return Markup("".join(out))


def _edges_svg(edges: Sequence[Link], boxes: Mapping[str, Box]) -> tuple[list[str], list[str]]:
    """Each edge as a group (path, tooltip) and, with few edges, its label beside its target."""
    ports = _ports(edges, boxes)
    shapes: list[str] = []
    labels: list[str] = []
    for index in reversed(range(len(edges))):  # the most important edges are drawn last, on top
        edge = edges[index]
        d, lx, ly, anchor = _edge_path(boxes[edge.source], boxes[edge.target], ports[(index, "out")],
                                       ports[(index, "in")])
        severity = f" sev-{_css(edge.severity)}" if edge.severity else ""
        shapes.append(f'<g class="org-edge org-edge-{edge.kind}{severity}" data-source="{_attr(edge.source)}" '
                      f'data-target="{_attr(edge.target)}" data-kind="{edge.kind}" data-count="{edge.count}">'
                      f"<title>{escape(edge_title(edge, boxes))}</title>"
                      f'<path d="{d}" marker-end="url(#org-arrow-{edge.kind})"/></g>')
        if len(edges) <= LABELLED_EDGES:
            text = _GLYPH[edge.kind] + (edge.labels[0] if edge.count == 1 else f"{edge.count} edges")
            labels.append(f'<text class="org-edge-label org-label-{edge.kind}" x="{lx:.0f}" y="{ly:.0f}" '
                          f'text-anchor="{anchor}">{escape(_name(text, 34))}</text>')
    return shapes, labels
