"""Client-side request-rate caps for the AWS operations whose rate AWS documents.

This module owns ``RATE_CAPS``, the table of documented request quotas (each entry with its source),
and ``RateLimiter``, the token buckets that keep the auditor under them, per account and, where AWS
scopes a quota per Region, per Region. botocore's adaptive retries only slow down *after* AWS has
throttled a call; a cap avoids the throttling in the first place, where AWS publishes the rate.
Services whose rates AWS does not document (IAM, Organizations, Identity Center, Budgets, S3 control,
RDS, DynamoDB, SQS, the tagging API...) are not capped here and rely on adaptive retries only; so are KMS,
and the workload services of ``auditor.collect.compute`` (ECS and Step Functions document token buckets per
API action), whose quotas are documented but not yet checked and encoded here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateCap:
    """One documented request quota: ``rate`` tokens a second refill a bucket of ``burst`` tokens."""

    service: str  # botocore service name
    operations: frozenset[str]  # botocore operation names the quota covers (those the auditor calls)
    per_operation: bool  # True: each operation has its own bucket; False: they share one
    rate: float  # tokens added per second
    burst: float  # bucket size
    regional: bool  # True: per account per Region; False: per account
    source: str
    quote: str


_EC2_THROTTLING = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
_LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_SECRETS_MANAGER_QUOTAS = "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html"
_SECRETS_MANAGER_2022 = (
    "https://aws.amazon.com/about-aws/whats-new/2022/11/aws-secrets-manager-increases-api-requests-per-second-limits/"
)
_SNS_LIST_TOPICS = "https://docs.aws.amazon.com/sns/latest/api/API_ListTopics.html"

RATE_CAPS: tuple[RateCap, ...] = (
    RateCap(
        service="ec2",
        operations=frozenset({"DescribeInstances", "DescribeVolumes", "DescribeRegions",
                              "DescribeLaunchTemplateVersions"}),
        per_operation=True,
        rate=20.0,
        burst=100.0,
        regional=True,
        source=_EC2_THROTTLING,
        quote="non-mutating actions (Describe*): bucket size 100 tokens, refill rate 20 tokens/second; "
              "throttled per account per Region, each API is evaluated individually",
    ),
    RateCap(
        service="lambda",
        operations=frozenset({"GetPolicy"}),
        per_operation=False,
        rate=15.0,
        burst=15.0,
        regional=True,
        source=_LAMBDA_QUOTAS,
        quote="GetPolicy API requests: 15 per second (per Region)",
    ),
    RateCap(
        service="lambda",
        operations=frozenset({"ListFunctions", "ListTags"}),
        per_operation=False,
        rate=15.0,
        burst=15.0,
        regional=True,
        source=_LAMBDA_QUOTAS,
        quote="Remainder of the control plane API requests (excludes invocation, GetFunction, and GetPolicy "
              "requests): 15 per second (per Region)",
    ),
    RateCap(
        service="secretsmanager",
        operations=frozenset({"GetResourcePolicy"}),
        per_operation=False,
        rate=50.0,
        burst=50.0,
        regional=True,
        source=_SECRETS_MANAGER_QUOTAS,
        quote="Combined rate of DeleteResourcePolicy, GetResourcePolicy, PutResourcePolicy, and "
              "ValidateResourcePolicy API requests: each supported Region: 50 per second",
    ),
    RateCap(
        service="secretsmanager",
        operations=frozenset({"ListSecrets"}),
        per_operation=False,
        rate=100.0,
        burst=100.0,
        regional=True,
        source=_SECRETS_MANAGER_2022,
        quote="AWS Secrets Manager increases API requests per second limits: ListSecrets 100 per second "
              "(per Region)",
    ),
    RateCap(
        service="sns",
        operations=frozenset({"ListTopics"}),
        per_operation=False,
        rate=30.0,
        burst=30.0,
        regional=True,
        source=_SNS_LIST_TOPICS,
        quote="ListTopics: This action is throttled at 30 transactions per second (TPS)",
    ),
)

# A wait shorter than this is float rounding of an exact refill, not a real shortage.
_EPSILON_SECONDS = 1e-9


@dataclass(frozen=True)
class WaitStats:
    """How often acquiring a token for one "service:Operation" had to wait, and for how long in total."""

    waits: int
    seconds: float


@dataclass
class _Bucket:
    tokens: float
    updated: float


def caps_by_operation(caps: Iterable[RateCap]) -> dict[tuple[str, str], RateCap]:
    """(service, operation) -> the cap covering it; an operation covered twice is a table error."""
    index: dict[tuple[str, str], RateCap] = {}
    for cap in caps:
        if cap.rate <= 0 or cap.burst < 1:
            raise ValueError(f"{cap.service} cap needs a positive rate and a burst of at least 1 token")
        for operation in cap.operations:
            if (cap.service, operation) in index:
                raise ValueError(f"{cap.service}:{operation} is covered by two rate caps")
            index[(cap.service, operation)] = cap
    return index


class RateLimiter:
    """Thread-safe token buckets, one per (account, Region when the cap is regional, cap, operation
    when the cap is per operation). Buckets start full, as AWS's do.

    A caller reserves its token under the lock (the bucket may go negative) and then sleeps outside
    it for the time the refill needs to cover the reservation: no token is spent twice, waiters are
    served in order, and the lock is never held while sleeping.
    """

    def __init__(
        self,
        caps: Iterable[RateCap] = RATE_CAPS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._caps = caps_by_operation(caps)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, RateCap, str], _Bucket] = {}
        self._waits: dict[str, tuple[int, float]] = {}

    def cap_for(self, service: str, operation: str) -> RateCap | None:
        return self._caps.get((service, operation))

    def acquire(self, account_id: str, region: str, service: str, operation: str) -> float:
        """Block until a token for this call is available; return the seconds waited."""
        cap = self._caps.get((service, operation))
        if cap is None:
            return 0.0
        key = (account_id, region if cap.regional else "", cap, operation if cap.per_operation else "")
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=cap.burst, updated=now)
            bucket.tokens = min(cap.burst, bucket.tokens + (now - bucket.updated) * cap.rate) - 1.0
            bucket.updated = now
            wait = -bucket.tokens / cap.rate if bucket.tokens < -_EPSILON_SECONDS * cap.rate else 0.0
            if wait:
                name = f"{service}:{operation}"
                waits, seconds = self._waits.get(name, (0, 0.0))
                self._waits[name] = (waits + 1, seconds + wait)
        if wait:
            self._sleep(wait)
        return wait

    def stats(self) -> dict[str, WaitStats]:
        """"service:Operation" -> waits and total seconds waited, for the operations that ever waited."""
        with self._lock:
            return {name: WaitStats(waits, seconds) for name, (waits, seconds) in sorted(self._waits.items())}
