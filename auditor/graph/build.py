"""Building the access graph of a snapshot, one question per step: what the organisation holds
(``structure``), who is administrator of what (``admin``), who can assume which role (``trusts``), who can
escalate to what (``escalations``), what an account's administrator can act as (``takeover``) and who
reaches what through Identity Center (``identity_center``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import networkx as nx

from auditor.graph.access_graph import AccessGraph
from auditor.graph.escalations import add_escalations
from auditor.graph.identity_center import add_identity_center
from auditor.graph.structure import add_admins, add_structure
from auditor.graph.takeover import add_account_takeovers
from auditor.graph.trusts import add_trusts
from auditor.iam.evaluate import Evaluator
from auditor.model import Snapshot


def build_access_graph(
    snapshot: Snapshot,
    environments: Mapping[str, str],
    *,
    assume_mfa: bool | None = None,
    escalation: bool = True,
) -> AccessGraph:
    """Build the graph; ``environments`` maps account id -> prod | non-prod | sandbox | security | unknown.

    ``assume_mfa``: what to assume about aws:MultiFactorAuthPresent for users with an MFA device
    (None: undecided, which makes MFA-gated access conditional).
    """
    evaluator = Evaluator(snapshot, assume_mfa=assume_mfa)
    org = snapshot.organization
    internal = frozenset(a.id for a in org.accounts) if org else frozenset(a.account_id for a in snapshot.accounts)
    graph = AccessGraph(
        graph=nx.MultiDiGraph(), environments=dict(environments), internal_accounts=internal, events=evaluator.events
    )
    with _cyclic_gc_paused():
        principals = add_structure(graph, snapshot, evaluator)
        admins = add_admins(graph, evaluator, principals)
        add_trusts(graph, snapshot, evaluator, principals)
        if escalation:
            add_escalations(graph, evaluator, admins, principals)
        add_account_takeovers(graph, evaluator, principals)  # after escalations: they make principals useful
        add_identity_center(graph, snapshot, evaluator)  # last: no edge it adds is one the steps above follow
    return graph


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The build allocates millions of long-lived, acyclic objects; the cycle collector would re-scan them
    all many times over (a third of the build time at 20,000 principals) to find nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
