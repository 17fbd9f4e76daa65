"""Session plumbing for the collectors: the one client factory (read-only guard, call counting and
documented rate caps), assuming the audit role in member accounts, and recording coverage gaps.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import defaultdict
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from auditor.collect.ratelimit import RateLimiter
from auditor.collect.readonly import ALLOWED_BY_SERVICE, check_operation
from auditor.model import CoverageGap

# --verbose / --log-file: every AWS call and every coverage gap (AccessDenied...), never parameters or answers
AWS_LOG = logging.getLogger("auditor.aws")

DEFAULT_MAX_ATTEMPTS = 10


def client_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """Adaptive retries (client-side rate limiting on throttling), ``max_attempts`` (10 by default); the
    standard AWS_MAX_ATTEMPTS and AWS_RETRY_MODE variables override them, as for any AWS SDK program."""
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    mode = os.environ.get("AWS_RETRY_MODE", "")
    retries: Any = {
        "mode": mode if mode in ("legacy", "standard", "adaptive") else "adaptive",
        "max_attempts": int(attempts) if attempts.isdigit() and int(attempts) > 0 else max_attempts,
    }
    return Config(retries=retries, user_agent_extra="aws-org-auditor")
ROLE_SESSION_NAME = "aws-org-auditor"
ROLE_SESSION_SECONDS = 3600

# Errors that mean "this AWS call did not give an answer": recorded as a coverage gap, never fatal.
# NotImplementedError is how an in-process simulator (moto) reports an operation it lacks.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, NotImplementedError)

# boto3 clients are typed per service by optional stubs; the collectors treat them uniformly.
Client = Any


class ApiCallCounter:
    """Thread-safe count of API calls per account and "service:Operation"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, account_id: str, operation: str) -> None:
        with self._lock:
            self._counts[account_id][operation] += 1

    def rename(self, old: str, new: str) -> None:
        """Move the counts kept under ``old`` to ``new`` (used once the caller's account is known)."""
        with self._lock:
            moved = self._counts.pop(old, {})
            for operation, count in moved.items():
                self._counts[new][operation] += count

    def merge(self, counts: dict[str, dict[str, int]]) -> None:
        """Add the counts of another counter's ``snapshot()`` (a worker process's)."""
        with self._lock:
            for account, operations in counts.items():
                for operation, count in operations.items():
                    self._counts[account][operation] += count

    def account(self, account_id: str) -> dict[str, int]:
        """One account's counts so far."""
        with self._lock:
            return dict(sorted(self._counts.get(account_id, {}).items()))

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {account: dict(sorted(ops.items())) for account, ops in sorted(self._counts.items())}


# Guards every use of a boto3 Session and of the shared botocore loader: creating a client (which reads the
# loader) and creating a member session (which edits its search paths). This is CPU-bound Python that the GIL
# serialises anyway, so one lock costs no parallelism.
_BOTOCORE_LOCK = threading.Lock()

# thread_name_prefix of the collector's pools: the CLI exits at once on Ctrl-C while any of them runs.
ACCOUNT_THREADS, IDENTITY_CENTER_THREADS, ORG_TAG_THREADS = "account", "identity-center", "org-tags"
COLLECTOR_THREAD_PREFIXES = (ACCOUNT_THREADS, IDENTITY_CENTER_THREADS, ORG_TAG_THREADS)

# Shared by every factory that is not given a limiter, so one process keeps one set of buckets per account.
DEFAULT_LIMITER = RateLimiter()


def assumed_account(params: Any) -> str | None:
    """The account id in an AssumeRole call's ``RoleArn`` (arn:partition:iam::ACCOUNT:role/NAME), if any."""
    role_arn = params.get("RoleArn") if isinstance(params, dict) else None
    parts = role_arn.split(":") if isinstance(role_arn, str) else []
    return parts[4] if len(parts) >= 6 and parts[4].isdigit() else None


class ClientFactory:
    """Creates every boto3 client the collectors use, all guarded by the read-only allow-list,
    counted per account and held under AWS's documented request rates (``auditor.collect.ratelimit``).

    Clients may be asked for from any thread: creation is serialised process-wide, because a
    ``boto3.Session`` is not thread-safe and the caller's session serves the organisation, Identity
    Center and the caller's own account at the same time. The clients themselves are thread-safe.
    """

    def __init__(
        self, session: boto3.Session, account_id: str, counter: ApiCallCounter, limiter: RateLimiter | None = None
    ) -> None:
        self.session = session
        self.account_id = account_id
        self.counter = counter
        self.limiter = limiter if limiter is not None else DEFAULT_LIMITER
        self._clients: dict[tuple[str, str, int], Client] = {}

    def client(self, service: str, region: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Client:
        """A client for ``service`` in ``region``; ``max_attempts`` is its retry budget (see ``client_config``)."""
        key = (service, region, max_attempts)
        with _BOTOCORE_LOCK:
            if key not in self._clients:
                config = client_config(max_attempts)
                client = self.session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
                # before-parameter-build fires once per API call (each page, not each retry) and
                # before the request is built, so a refused operation never reaches the network.
                # Its handlers get the operation model and parameters, not the client: bind the region here.
                client.meta.events.register("before-parameter-build", functools.partial(self._before_call, region))
                self._clients[key] = client
            return self._clients[key]

    def _before_call(self, region: str, model: Any, params: Any = None, **_: Any) -> None:
        service = model.service_model.service_name
        operation = f"{service}:{model.name}"
        check_operation(operation)
        # An AssumeRole costs the account whose role it assumes: book it there, not under the caller.
        booked = (assumed_account(params) if operation == "sts:AssumeRole" else None) or self.account_id
        self.counter.add(booked, operation)
        AWS_LOG.debug("call %s account %s region %s", operation, booked, region)
        self.limiter.acquire(self.account_id, region, service, model.name)


class AllowListLoader(botocore.loaders.Loader):
    """A botocore data loader whose service models describe only the allow-listed operations.

    A client built from such a model has no method for any other operation, so it cannot even express a
    write; and building it is cheaper, because botocore creates one client method per operation of the
    model (EC2 alone has about 750). The allow-list hook in ``ClientFactory`` stays as the second guard.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trimmed: dict[tuple[str, str | None], Any] = {}
        self._trim_lock = threading.Lock()

    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        model = super().load_service_model(service_name, type_name, api_version=api_version)
        if type_name != "service-2":
            return model
        key = (service_name, api_version)
        with self._trim_lock:
            if key not in self._trimmed:
                allowed = ALLOWED_BY_SERVICE.get(service_name, frozenset())
                self._trimmed[key] = {
                    **model, "operations": {name: op for name, op in model["operations"].items() if name in allowed},
                }
            return self._trimmed[key]


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    """One data loader per process: service models are read-only once loaded, and trimmed to the allow-list."""
    data_path = botocore.session.Session().get_config_variable("data_path")
    extra = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)] if data_path else []
    return AllowListLoader(extra_search_paths=extra)


class SessionMaker:
    """Builds the per-account ``boto3.Session`` objects of one run.

    Every session shares one botocore data loader, so each service model is parsed once per run
    rather than once per account (parsing the models dominates the CPU cost of a new Session).
    """

    def __init__(self) -> None:
        self._loader = _shared_loader()

    def assume_role(
        self, sts: Client, account_id: str, role_name: str, external_id: str | None, region: str,
        partition: str,
    ) -> boto3.Session:
        """A new session holding the audit role's credentials in ``account_id``."""
        params: dict[str, Any] = {
            "RoleArn": f"arn:{partition}:iam::{account_id}:role/{role_name}",
            "RoleSessionName": ROLE_SESSION_NAME,
            "DurationSeconds": ROLE_SESSION_SECONDS,
        }
        if external_id:
            params["ExternalId"] = external_id

        def fetch() -> dict[str, Any]:
            # Always from the caller's own credentials: a refresh never chains roles.
            credentials = sts.assume_role(**params)["Credentials"]
            expiration = credentials["Expiration"]
            return {
                "access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": expiration.isoformat() if hasattr(expiration, "isoformat") else str(expiration),
            }

        first = fetch()  # eagerly: a role that cannot be assumed fails here, as a coverage gap
        credentials = RefreshableCredentials.create_from_metadata(first, refresh_using=fetch, method="assume-role")
        with _BOTOCORE_LOCK:
            core = botocore.session.Session()
            core.register_component("data_loader", self._loader)
            # botocore refreshes these before they expire (15 minutes ahead), so a long run never
            # continues with stale credentials.
            core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
            session = boto3.Session(region_name=region, botocore_session=core)
            # boto3 appends its own data directory to the loader each time: keep one copy.
            self._loader.search_paths[:] = list(dict.fromkeys(self._loader.search_paths))
        return session


class _Fixed(CredentialProvider):
    """A credential provider that hands out one (refreshable) credentials object."""

    METHOD = "assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def error_code_and_message(exc: Exception) -> tuple[str, str]:
    """The AWS error code and message of an exception from ``AWS_ERRORS``."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return str(error.get("Code") or status or "ClientError"), str(error.get("Message") or exc)
    if isinstance(exc, NotImplementedError):
        return "NotImplemented", str(exc) or "operation not implemented by the endpoint"
    return type(exc).__name__, str(exc)


def error_code(exc: Exception) -> str:
    return error_code_and_message(exc)[0]


class Gaps:
    """The coverage gaps found while collecting one account (or the organisation); thread-safe."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.items: list[CoverageGap] = []
        self._lock = threading.Lock()

    def record(
        self, service: str, operation: str, exc: Exception, region: str = "global", context: str = ""
    ) -> None:
        code, message = error_code_and_message(exc)
        if context:
            message = f"{context}: {message}"
        self.add(service, operation, code, message, region)

    def add(self, service: str, operation: str, code: str, message: str, region: str = "global") -> None:
        gap = CoverageGap(
            account_id=self.account_id,
            service=service,
            region=region,
            operation=operation,
            error_code=code,
            message=message,
        )
        AWS_LOG.info("coverage gap: account %s %s:%s region %s: %s: %s", self.account_id, service, operation,
                     region, code, message)
        with self._lock:
            self.items.append(gap)
