"""Collectors: everything that talks to AWS. They read (never write) the caller's organisation
and every audited account and produce an ``auditor.model.Snapshot``.
"""

from auditor.collect.readonly import ALLOWED_OPERATIONS, ReadOnlyViolation, iam_actions
from auditor.collect.run import CollectOptions, collect

__all__ = ["ALLOWED_OPERATIONS", "CollectOptions", "ReadOnlyViolation", "collect", "iam_actions"]
