"""Collects one account's AWS Budgets (name, type, limit, number of notifications)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import Budget

SERVICE = "budgets"


def collect_budgets(
    factory: ClientFactory, account_id: str, region: str, gaps: Gaps
) -> tuple[Budget, ...] | None:
    """The account's budgets; an empty tuple when there are none, None when they could not be read."""
    client = factory.client(SERVICE, region)
    try:
        raw = [
            budget
            for page in client.get_paginator("describe_budgets").paginate(AccountId=account_id)
            for budget in page.get("Budgets", [])
        ]
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return ()
        gaps.record(SERVICE, "DescribeBudgets", exc)
        return None
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "DescribeBudgets", exc)
        return None
    budgets = []
    for budget in raw:
        name = budget["BudgetName"]
        limit = budget.get("BudgetLimit") or {}
        budgets.append(Budget(
            name=name,
            budget_type=budget.get("BudgetType", "COST"),
            limit_amount=str(limit.get("Amount", "")),
            limit_unit=str(limit.get("Unit", "")),
            notification_count=_notification_count(client, account_id, name, gaps),
        ))
    return tuple(budgets)


def _notification_count(client: Client, account_id: str, name: str, gaps: Gaps) -> int:
    try:
        pages = client.get_paginator("describe_notifications_for_budget").paginate(
            AccountId=account_id, BudgetName=name)
        return sum(len(page.get("Notifications", [])) for page in pages)
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            gaps.record(SERVICE, "DescribeNotificationsForBudget", exc, context=name)
        return 0
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "DescribeNotificationsForBudget", exc, context=name)
        return 0
