"""Collection on a Dask cluster (``--executor dask --scheduler tcp://HOST:8786``): one task per account.

The client (the ``auditor`` command) reads the organisation and Identity Center itself and submits one task per
audited account. Each task runs on a Dask worker, which builds its own session from its own environment (instance
role, IRSA, profile) and assumes the audit role itself, through the same ``_collect_account`` as the local executor.
Outcomes come back to the client as tasks complete.

A worker lost in the middle of an account is Dask's business: the scheduler gives the task to another worker, up to
its ``distributed.scheduler.allowed-failures`` setting (3 by default); after that the account comes back as
``KilledWorker`` and is recorded as a coverage gap, like an account whose role cannot be assumed.

This module is the only one that imports ``distributed``, and only when ``--executor dask`` is chosen: the default
install (without the ``dask`` extra) never needs it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from auditor import __version__
from auditor.collect.run import AccountJob, AccountOutcome, WorkerContext, collect_account_job, lost_account
from auditor.errors import UserError

INSTALL_HINT = 'the Dask executor needs the optional extra: pip install "aws-org-auditor[dask]"'
CONNECT_TIMEOUT_SECONDS = 30

# One context per Dask worker (its session, identity and service models), made on first use on that worker.
_contexts: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], WorkerContext]] = weakref.WeakKeyDictionary()
_contexts_lock = threading.Lock()


def _worker_context(home_region: str, profile: str | None) -> WorkerContext:
    from distributed import get_worker

    worker = get_worker()
    key = (home_region, profile)
    with _contexts_lock:
        per_worker = _contexts.setdefault(worker, {})
        if key not in per_worker:
            per_worker[key] = WorkerContext(home_region, profile)
        return per_worker[key]


def collect_on_worker(job: AccountJob) -> AccountOutcome:
    """The Dask task: one account, collected on the worker that runs it."""
    # The client's --profile names a profile on the client's machine: workers use their own environment.
    return collect_account_job(job, _worker_context(job.home_region, None))


def _worker_tool_version() -> str:
    return __version__


class DaskExecutor:
    """A connection to a Dask scheduler that collects accounts as tasks on its workers. Made before the
    organisation is read, so that a wrong address or a missing extra fails at once."""

    def __init__(self, scheduler: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UserError(INSTALL_HINT) from None
        if not scheduler:
            raise UserError("--executor dask needs --scheduler ADDRESS (for example tcp://dask-scheduler:8786)")
        self.scheduler = scheduler
        connect: Any = Client  # distributed's own annotations are partial
        try:
            self.client: Any = connect(scheduler, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            _check_workers(self.client, scheduler)
        except BaseException:
            self.client.close()
            raise

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def run(self, jobs: Sequence[AccountJob], done: Callable[[AccountOutcome], None]) -> None:
        """Collect ``jobs`` on the cluster, calling ``done`` on the client as each account comes back (in completion
        order). Accounts whose task was lost for good become coverage gaps."""
        from distributed import as_completed
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        completed: Any = as_completed  # distributed's own annotations are partial
        by_future: dict[Any, AccountJob] = {}
        try:
            for job in jobs:
                # pure=False: a new run collects again, never reuses a result the cluster still holds.
                future = self.client.submit(collect_on_worker, job, pure=False)
                by_future[future] = job
            for future in completed(list(by_future), loop=self.client.loop):
                job = by_future.pop(future)
                try:
                    outcome = future.result()
                except KilledWorker as exc:
                    outcome = lost_account(job, "KilledWorker", (
                        f"the Dask workers collecting {job.target.account_id} were lost too often ({exc}); "
                        "account not audited"))
                except FutureCancelledError as exc:
                    outcome = lost_account(job, "TaskCancelled", (
                        f"the Dask task collecting {job.target.account_id} was cancelled ({exc}); "
                        "account not audited"))
                future.release()  # the cluster may forget the result: the client holds it now
                done(outcome)
        except BaseException:
            # Ctrl-C (or a bug): stop the accounts not collected yet rather than leave them running on the cluster.
            self.client.cancel(list(by_future), force=True)
            raise


def _check_workers(client: Any, scheduler: str) -> None:
    """Every worker must run this auditor's version: a task's code and its answer's model must match the client's."""
    try:
        versions: dict[str, Any] = client.run(_worker_tool_version)
    except Exception as exc:  # a worker without the auditor installed fails to unpickle the call
        raise UserError(f"the Dask workers at {scheduler} cannot run the auditor ({type(exc).__name__}: {exc}); "
                        "install the same aws-org-auditor version on every worker") from None
    wrong = {address: version for address, version in versions.items() if version != __version__}
    if wrong:
        listed = ", ".join(f"{address} has {version}" for address, version in sorted(wrong.items()))
        raise UserError(f"Dask workers run another auditor version than this client's {__version__}: {listed}")
