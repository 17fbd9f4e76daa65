"""The collected-services table is the one place a collected service is declared: every operation a row
names is on the read-only allow-list, and each Resource.type comes from one row."""

from __future__ import annotations

from collections import Counter

from auditor.collect.readonly import ALLOWED_OPERATIONS
from auditor.collect.resources import COLLECTED_SERVICES, S3_CALLS


def test_every_operation_of_the_table_is_allow_listed() -> None:
    declared = {f"{row.service}:{op}" for row in COLLECTED_SERVICES for op in (row.operation, *row.calls)}
    declared |= {f"s3:{op}" for op in S3_CALLS}
    assert sorted(declared - ALLOWED_OPERATIONS) == []


def test_each_resource_type_comes_from_one_row() -> None:
    counts = Counter(kind for row in COLLECTED_SERVICES for kind in row.types)
    assert [kind for kind, n in counts.items() if n > 1] == []
    assert all(row.types for row in COLLECTED_SERVICES)
