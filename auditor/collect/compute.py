"""Collects one account's workloads that run with an IAM role, and which role each runs as.

This module owns the role each workload resource carries (``Resource.role_arn`` is always the ARN of an
IAM role): ``RoleIndex`` resolves an EC2 instance profile, or a bare role name, to the role ARN through
the account's own IAM data (GetAccountAuthorizationDetails, collected before the resources).
"""

from __future__ import annotations

from collections.abc import Mapping

from auditor.model import IamData


class RoleIndex:
    """The account's roles by name and its instance profiles' roles, from GetAccountAuthorizationDetails.

    GetAccountAuthorizationDetails lists each role with the instance profiles that hold it; a profile
    without a role is absent from it, and an instance launched with it runs with no role.
    """

    def __init__(self, iam: IamData | None, account_id: str, partition: str) -> None:
        self.account_id = account_id
        self.partition = partition
        self.known = iam is not None
        self._by_name: dict[str, str] = {}
        self._by_profile: dict[str, str] = {}
        for role in iam.roles if iam is not None else ():
            self._by_name[role.name] = role.arn
            for profile in role.instance_profile_arns:
                self._by_profile[profile] = role.arn

    @property
    def by_profile(self) -> Mapping[str, str]:
        return self._by_profile

    def profile_role(self, profile_arn: str | None) -> str | None:
        """The role an instance profile carries; None without a profile or when IAM does not list it."""
        return self._by_profile.get(profile_arn) if profile_arn else None

    def role(self, name_or_arn: str | None) -> str | None:
        """A role ARN from an API field that takes "the name or ARN of the role" (Glue, ECS, Data Pipeline).

        A name is resolved through the account's roles (a role's ARN carries its path); an unknown name
        becomes the path-less ARN AWS would build for it in this account.
        """
        if not name_or_arn:
            return None
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return self._by_name.get(name_or_arn) or f"arn:{self.partition}:iam::{self.account_id}:role/{name_or_arn}"
