"""The technique table against the public catalogues: every path covered, each with a positive case and a
benign twin that looks risky (run through the access graph, on data shaped like collected data)."""

from __future__ import annotations

from collections import Counter

import pytest

from auditor.graph import build_access_graph
from auditor.iam.catalogues import (
    COVERED_BY_GRAPH,
    IAM_VULNERABLE_COVERED_BY_GRAPH,
    IAM_VULNERABLE_SCENARIOS,
    PATHFINDING_IDS,
    PATHFINDING_SNAPSHOT,
    RHINO_METHODS,
)
from auditor.iam.techniques import NEW_RESOURCE_ARNS, NO_TECHNIQUE, TECHNIQUES, TECHNIQUES_BY_ID, On, Technique
from auditor.model import Snapshot
from tests.escalation_scenarios import scenario, vias
from tests.iam_helpers import DEV, ENVIRONMENTS

CASES = [(t, via) for t in TECHNIQUES for via in vias(t)]
CASE_IDS = [f"{t.id}[{via}]" for t, via in CASES]

# The resource types of the shared vocabulary (COMMON-VOCAB.md): each is taken over by a technique or
# deliberately left out with a reason.
VOCABULARY = (
    "ec2:instance",
    "lambda:function",
    "ecs:task-definition",
    "ecs:service",
    "ecs:cluster",
    "codebuild:project",
    "cloudformation:stack",
    "glue:job",
    "glue:devEndpoint",
    "sagemaker:notebook-instance",
    "apprunner:service",
    "states:stateMachine",
    "bedrock:agent",
    "datapipeline:pipeline",
)


def _edges(snap: Snapshot, attacker: str) -> dict[tuple[str, str], list[object]]:
    g = build_access_graph(snap, ENVIRONMENTS)
    out: dict[tuple[str, str], list[object]] = {}
    for e in g.escalation_edges():
        if e.source == attacker:
            out.setdefault((e.technique_id, e.target), []).append(e)
    return out


@pytest.mark.parametrize(("technique", "via"), CASES, ids=CASE_IDS)
def test_technique_detected(technique: Technique, via: str) -> None:
    s = scenario(technique, via, benign=False)
    g = build_access_graph(s.snapshot, ENVIRONMENTS)
    edges = [
        e
        for e in g.escalation_edges()
        if e.source == s.attacker and (e.technique_id, e.target) == s.expected and (s.via is None or e.via == s.via)
    ]
    assert len(edges) == 1, [(e.technique_id, e.target, e.via) for e in g.escalation_edges()]
    (edge,) = edges
    assert edge.statements, "the edge carries the granting statements"
    assert edge.conditional is (technique.caveat is not None), edge.undecided_conditions
    (path,) = [p for p in g.escalation_paths() if p.source == s.attacker]
    assert path.nodes[-1] == DEV
    assert path.hops[0].kind == "can-escalate-to"


@pytest.mark.parametrize(("technique", "via"), CASES, ids=CASE_IDS)
def test_benign_twin_not_detected(technique: Technique, via: str) -> None:
    s = scenario(technique, via, benign=True)
    assert s.twin
    found = _edges(s.snapshot, s.attacker)
    assert s.expected not in found, s.twin


def test_every_pathfinding_path_is_covered() -> None:
    assert PATHFINDING_SNAPSHOT["date"] == "2025-12-17"
    assert len(PATHFINDING_IDS) == len(set(PATHFINDING_IDS)) == 65
    named = Counter(i for t in TECHNIQUES for i in t.all_pathfinding)
    assert set(named) | set(COVERED_BY_GRAPH) == set(PATHFINDING_IDS)
    assert not set(named) & set(COVERED_BY_GRAPH)
    assert not [i for i, n in named.items() if n > 1], "each path is one row's"


def test_every_pathfinding_form_has_a_case() -> None:
    """A "modify then use" id is exercised through the access method it names."""
    exercised = {i for t, via in CASES for i in (t.pathfinding if via == "self" else t.via.get(via, ()))}
    assert exercised == set(PATHFINDING_IDS) - set(COVERED_BY_GRAPH)


def test_rhino_and_iam_vulnerable_are_covered() -> None:
    sources = {s for t in TECHNIQUES for s in t.sources}
    assert set(RHINO_METHODS) <= sources
    scenarios = {f"iam-vulnerable:{s}" for s in IAM_VULNERABLE_SCENARIOS if s not in IAM_VULNERABLE_COVERED_BY_GRAPH}
    assert scenarios <= sources
    assert {s for s in sources if s.startswith("iam-vulnerable:")} <= {
        f"iam-vulnerable:{s}" for s in IAM_VULNERABLE_SCENARIOS
    }


def test_every_vocabulary_resource_type_has_a_technique_or_a_reason() -> None:
    taken = {t.resource_type for t in TECHNIQUES} | {
        s.resource_type for t in TECHNIQUES for s in t.steps if s.on is On.EXISTING
    }
    for resource_type in VOCABULARY:
        assert (resource_type in taken) != (resource_type in NO_TECHNIQUE), resource_type


def test_table_is_consistent() -> None:
    assert len(TECHNIQUES_BY_ID) == len(TECHNIQUES)
    for t in TECHNIQUES:
        for step in t.steps:
            if step.on is On.NEW:
                assert step.action in NEW_RESOURCE_ARNS, (t.id, step.action)
            if step.on is On.EXISTING:
                assert step.resource_type, t.id
        if t.target.value == "passed-role":
            assert t.service and t.actions[0] == "iam:PassRole", t.id
