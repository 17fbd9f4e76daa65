"""Client-side rate caps: token-bucket arithmetic on a fake clock, bucket scoping, thread safety, the
validity of the documented-caps table, the client hook under moto, and where AssumeRole calls are booked."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

import boto3
import botocore.session
import pytest
from moto import mock_aws

from auditor.collect.ratelimit import RATE_CAPS, RateCap, RateLimiter, caps_by_operation
from auditor.collect.readonly import ALLOWED_OPERATIONS
from auditor.collect.session import DEFAULT_LIMITER, ApiCallCounter, ClientFactory, SessionMaker, assumed_account

CALLER = "123456789012"
MEMBER = "111111111111"
OTHER = "222222222222"
REGION = "us-east-1"
SECOND_REGION = "eu-west-1"


class FakeClock:
    """A clock that only moves when told to, or when the limiter sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0
        self.slept: list[float] = []

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def fake_limiter(caps: tuple[RateCap, ...] = RATE_CAPS) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(caps, clock=clock, sleep=clock.sleep), clock


def cap_of(service: str, operation: str) -> RateCap:
    cap = caps_by_operation(RATE_CAPS).get((service, operation))
    assert cap is not None, f"{service}:{operation} is not capped"
    return cap


def assert_waited(limiter: RateLimiter, name: str, waits: int, seconds: float) -> None:
    """``name`` is the only operation that ever waited: ``waits`` times, ``seconds`` in total."""
    stats = limiter.stats()
    assert list(stats) == [name]
    assert stats[name].waits == waits and stats[name].seconds == pytest.approx(seconds)


# --- the table ---------------------------------------------------------------------------------


def test_documented_figures() -> None:
    # (rate, burst, per account per Region, own bucket per operation), as AWS documents them.
    assert {(c.service, op): (c.rate, c.burst, c.regional, c.per_operation)
            for c in RATE_CAPS for op in c.operations} == {
        ("ec2", "DescribeInstances"): (20.0, 100.0, True, True),
        ("ec2", "DescribeVolumes"): (20.0, 100.0, True, True),
        ("ec2", "DescribeRegions"): (20.0, 100.0, True, True),
        ("ec2", "DescribeLaunchTemplateVersions"): (20.0, 100.0, True, True),
        ("lambda", "GetPolicy"): (15.0, 15.0, True, False),
        ("lambda", "ListFunctions"): (15.0, 15.0, True, False),
        ("lambda", "ListTags"): (15.0, 15.0, True, False),
        ("secretsmanager", "GetResourcePolicy"): (50.0, 50.0, True, False),
        ("secretsmanager", "ListSecrets"): (100.0, 100.0, True, False),
        ("sns", "ListTopics"): (30.0, 30.0, True, False),
    }


@pytest.mark.parametrize("cap", RATE_CAPS, ids=lambda c: f"{c.service}:{'+'.join(sorted(c.operations))}")
def test_cap_is_valid(cap: RateCap) -> None:
    model = botocore.session.Session().get_service_model(cap.service)
    assert cap.operations and cap.operations <= set(model.operation_names)
    assert {f"{cap.service}:{op}" for op in cap.operations} <= ALLOWED_OPERATIONS
    assert cap.source.startswith(("https://docs.aws.amazon.com/", "https://aws.amazon.com/"))
    assert cap.quote and cap.rate > 0 and cap.burst >= 1


@pytest.mark.parametrize(
    ("caps", "message"),
    [
        ((RateCap("sns", frozenset({"ListTopics"}), False, 1.0, 1.0, True, "s", "q"),
          RateCap("sns", frozenset({"ListTopics"}), False, 2.0, 2.0, True, "s", "q")), "covered by two rate caps"),
        ((RateCap("sns", frozenset({"ListTopics"}), False, 0.0, 1.0, True, "s", "q"),), "positive rate"),
        ((RateCap("sns", frozenset({"ListTopics"}), False, 1.0, 0.5, True, "s", "q"),), "burst of at least 1"),
    ],
)
def test_invalid_tables_are_refused(caps: tuple[RateCap, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimiter(caps)


# --- token buckets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation"),
    [("ec2", "DescribeInstances"), ("lambda", "GetPolicy"), ("lambda", "ListFunctions"),
     ("secretsmanager", "GetResourcePolicy"), ("secretsmanager", "ListSecrets"), ("sns", "ListTopics")],
)
def test_burst_then_refill(service: str, operation: str) -> None:
    cap = cap_of(service, operation)
    limiter, clock = fake_limiter()

    def acquire() -> float:
        return limiter.acquire(CALLER, REGION, service, operation)

    assert [acquire() for _ in range(int(cap.burst))] == [0.0] * int(cap.burst)
    assert acquire() == pytest.approx(1 / cap.rate)
    assert clock.slept == [pytest.approx(1 / cap.rate)]
    clock.now += 1.0  # one second more refills exactly ``rate`` tokens
    assert [acquire() for _ in range(int(cap.rate))] == [0.0] * int(cap.rate)
    assert acquire() == pytest.approx(1 / cap.rate)


def test_ec2_burst_of_100_then_20_per_second() -> None:
    limiter, clock = fake_limiter()
    waits = [limiter.acquire(CALLER, REGION, "ec2", "DescribeInstances") for _ in range(101)]
    assert waits[:100] == [0.0] * 100 and waits[100] == pytest.approx(1 / 20)
    clock.now += 1.0
    assert [limiter.acquire(CALLER, REGION, "ec2", "DescribeInstances") for _ in range(20)] == [0.0] * 20
    assert_waited(limiter, "ec2:DescribeInstances", 1, 1 / 20)


def test_bucket_never_holds_more_than_its_burst() -> None:
    limiter, clock = fake_limiter()
    clock.now += 3600.0  # an hour idle refills to 100, not to 72,000
    waits = [limiter.acquire(CALLER, REGION, "ec2", "DescribeVolumes") for _ in range(101)]
    assert waits.count(0.0) == 100


GLOBAL_CAP = RateCap("iam", frozenset({"ListRoles", "ListUsers"}), False, 1.0, 2.0, False,
                     "https://docs.aws.amazon.com/example", "a per-account cap, for the test only")


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        # (account, region, service, operation) exhausting a bucket, then one more call: does it wait?
        ((CALLER, REGION, "ec2", "DescribeInstances"), (CALLER, REGION, "ec2", "DescribeInstances"), True),
        ((CALLER, REGION, "ec2", "DescribeInstances"), (OTHER, REGION, "ec2", "DescribeInstances"), False),
        ((CALLER, REGION, "ec2", "DescribeInstances"), (CALLER, SECOND_REGION, "ec2", "DescribeInstances"), False),
        ((CALLER, REGION, "ec2", "DescribeInstances"), (CALLER, REGION, "ec2", "DescribeVolumes"), False),
        ((CALLER, REGION, "lambda", "ListFunctions"), (CALLER, REGION, "lambda", "ListTags"), True),
        ((CALLER, REGION, "lambda", "ListFunctions"), (OTHER, REGION, "lambda", "ListTags"), False),
        ((CALLER, REGION, "lambda", "ListFunctions"), (CALLER, SECOND_REGION, "lambda", "ListTags"), False),
        ((CALLER, REGION, "lambda", "ListFunctions"), (CALLER, REGION, "lambda", "GetPolicy"), False),
        ((CALLER, REGION, "secretsmanager", "ListSecrets"),
         (CALLER, REGION, "secretsmanager", "GetResourcePolicy"), False),
        ((CALLER, REGION, "sns", "ListTopics"), (CALLER, SECOND_REGION, "sns", "ListTopics"), False),
        ((CALLER, REGION, "iam", "ListRoles"), (CALLER, SECOND_REGION, "iam", "ListUsers"), True),
        ((CALLER, REGION, "iam", "ListRoles"), (OTHER, REGION, "iam", "ListUsers"), False),
    ],
)
def test_bucket_scope(first: tuple[str, str, str, str], second: tuple[str, str, str, str], shared: bool) -> None:
    limiter, clock = fake_limiter((*RATE_CAPS, GLOBAL_CAP))
    cap = limiter.cap_for(first[2], first[3])
    assert cap is not None
    for _ in range(int(cap.burst)):
        limiter.acquire(*first)
    assert (limiter.acquire(*second) > 0) is shared
    assert len(clock.slept) == int(shared)


@pytest.mark.parametrize(
    ("service", "operation"),
    [("iam", "GetAccountAuthorizationDetails"), ("organizations", "ListAccountsForParent"),
     ("ec2", "DescribeSnapshots"), ("sns", "GetTopicAttributes"), ("lambda", "GetFunction"), ("sts", "AssumeRole")],
)
def test_uncapped_operations_never_wait_nor_read_the_clock(service: str, operation: str) -> None:
    def no_clock() -> float:
        raise AssertionError("the clock was read for an uncapped operation")

    def no_sleep(_: float) -> None:
        raise AssertionError("an uncapped operation slept")

    limiter = RateLimiter(clock=no_clock, sleep=no_sleep)
    assert [limiter.acquire(CALLER, REGION, service, operation) for _ in range(1_000)] == [0.0] * 1_000
    assert limiter.stats() == {}


def test_threads_never_spend_a_token_twice() -> None:
    # The clock stands still, so the n-th call past the burst must wait exactly n/20 s, whatever the interleaving.
    clock = FakeClock()
    slept: list[float] = []
    limiter = RateLimiter(clock=clock, sleep=slept.append)
    threads, calls = 8, 60
    start = threading.Barrier(threads)
    waits: list[float] = []
    waits_lock = threading.Lock()

    def work() -> None:
        start.wait()
        mine = [limiter.acquire(CALLER, REGION, "ec2", "DescribeInstances") for _ in range(calls)]
        with waits_lock:
            waits.extend(mine)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to provoke races
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    over = threads * calls - 100
    expected = [n / 20 for n in range(1, over + 1)]
    assert sorted(w for w in waits if w) == pytest.approx(expected)
    assert waits.count(0.0) == 100
    assert sorted(slept) == pytest.approx(expected)
    assert_waited(limiter, "ec2:DescribeInstances", over, sum(expected))


# --- the client hook, under moto ---------------------------------------------------------------


def test_factory_caps_describe_instances_per_region() -> None:
    limiter, clock = fake_limiter()
    counter = ApiCallCounter()
    with mock_aws():
        factory = ClientFactory(boto3.Session(), CALLER, counter, limiter)
        ec2 = factory.client("ec2", REGION)
        for _ in range(101):
            ec2.describe_instances()
        assert clock.slept == [pytest.approx(1 / 20)]
        other_region = factory.client("ec2", SECOND_REGION)
        for _ in range(100):
            other_region.describe_instances()
    assert clock.slept == [pytest.approx(1 / 20)]
    assert counter.snapshot() == {CALLER: {"ec2:DescribeInstances": 201}}
    assert_waited(limiter, "ec2:DescribeInstances", 1, 1 / 20)


def test_factories_without_a_limiter_share_the_default() -> None:
    counter = ApiCallCounter()
    limiter = RateLimiter()
    assert ClientFactory(boto3.Session(), CALLER, counter).limiter is DEFAULT_LIMITER
    assert ClientFactory(boto3.Session(), MEMBER, counter).limiter is DEFAULT_LIMITER
    assert ClientFactory(boto3.Session(), MEMBER, counter, limiter).limiter is limiter


# --- where AssumeRole is booked ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "account"),
    [
        ({"RoleArn": f"arn:aws:iam::{MEMBER}:role/SecurityAuditRole"}, MEMBER),
        ({"RoleArn": f"arn:aws-us-gov:iam::{OTHER}:role/path/to/Role"}, OTHER),
        ({"RoleArn": "not-an-arn"}, None),
        ({"RoleArn": "arn:aws:iam::alias:role/Role"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_assumed_account(params: object, account: str | None) -> None:
    assert assumed_account(params) == account


def assume_directly(factory: ClientFactory) -> None:
    factory.client("sts", REGION).assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/SecurityAuditRole", RoleSessionName="test")


def assume_through_session_maker(factory: ClientFactory) -> None:
    session = SessionMaker().assume_role(
        factory.client("sts", REGION), MEMBER, "SecurityAuditRole", None, REGION, "aws")
    session.client("sts", region_name=REGION).get_caller_identity()  # a client outside any factory: not counted


@pytest.mark.parametrize("assume", [assume_directly, assume_through_session_maker])
def test_assume_role_is_booked_under_the_target_account(assume: Callable[[ClientFactory], None]) -> None:
    counter = ApiCallCounter()
    with mock_aws():
        factory = ClientFactory(boto3.Session(), CALLER, counter, RateLimiter())
        factory.client("sts", REGION).get_caller_identity()
        assume(factory)
    assert counter.snapshot() == {CALLER: {"sts:GetCallerIdentity": 1}, MEMBER: {"sts:AssumeRole": 1}}
