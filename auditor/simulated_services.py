"""AWS APIs that moto does not simulate, answered in-process for the demo and the tests.

moto 5.2 has no App Runner: in-process it answers "not yet implemented", and its server an HTTP 500. The
demo and the tests run the real collectors, so App Runner's two read calls (ListServices, DescribeService)
are answered here, per account and Region, the way botocore's Stubber answers: a ``before-call`` handler
returns the parsed response, validated against botocore's own output shape for the operation. Nothing here
is imported by a collection against AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

SERVICE_EVENT = "before-call.apprunner"
_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


class AppRunnerSimulation:
    """App Runner services by (account, Region), answered to every botocore session while ``installed()``."""

    def __init__(self) -> None:
        self._services: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add_service(self, account_id: str, region: str, name: str, instance_role_arn: str | None) -> str:
        """Seed a running service; returns its ARN."""
        service_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{account_id}/{region}/{name}").hex
        arn = f"arn:aws:apprunner:{region}:{account_id}:service/{name}/{service_id}"
        instance: dict[str, Any] = {"Cpu": "1024", "Memory": "2048"}
        if instance_role_arn:
            instance["InstanceRoleArn"] = instance_role_arn
        self._services.setdefault((account_id, region), []).append({
            "ServiceName": name, "ServiceId": service_id, "ServiceArn": arn,
            "ServiceUrl": f"{service_id}.{region}.awsapprunner.com", "CreatedAt": _CREATED, "UpdatedAt": _CREATED,
            "Status": "RUNNING",
            "SourceConfiguration": {"ImageRepository": {"ImageIdentifier": "public.ecr.aws/nginx/nginx:latest",
                                                        "ImageRepositoryType": "ECR_PUBLIC"}},
            "InstanceConfiguration": instance,
            "AutoScalingConfigurationSummary": {"AutoScalingConfigurationName": "DefaultConfiguration"},
            "NetworkConfiguration": {"EgressConfiguration": {"EgressType": "DEFAULT"}},
        })
        return arn

    def clear(self) -> None:
        self._services.clear()

    def answer(self, model: Any, params: dict[str, Any], request_signer: Any = None, **_: Any
               ) -> tuple[AWSResponse, dict[str, Any]]:
        """The ``before-call`` handler: the parsed answer to one App Runner call."""
        account_id = _account_of(request_signer)
        region = str(getattr(request_signer, "region_name", "") or "us-east-1")
        services = self._services.get((account_id, region), [])
        if model.name == "ListServices":
            keys = ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt", "UpdatedAt", "Status")
            return _ok(model, {"ServiceSummaryList": [{k: s[k] for k in keys} for s in services]})
        if model.name == "DescribeService":
            wanted = _request_body(params).get("ServiceArn")
            found = next((s for s in services if s["ServiceArn"] == wanted), None)
            if found is not None:
                return _ok(model, {"Service": found})
            return _error("ResourceNotFoundException", f"service {wanted} not found", 400)
        return _error("NotImplemented", f"App Runner {model.name} is not simulated", 501)

    @contextmanager
    def installed(self) -> Iterator[AppRunnerSimulation]:
        """Answer App Runner on every botocore session created inside the block."""
        saved = list(botocore.handlers.BUILTIN_HANDLERS)
        botocore.handlers.BUILTIN_HANDLERS.append((SERVICE_EVENT, self.answer))
        try:
            yield self
        finally:
            botocore.handlers.BUILTIN_HANDLERS[:] = saved


def _account_of(request_signer: Any) -> str:
    """The moto account the request's credentials belong to (moto binds assumed-role keys to accounts)."""
    from moto.iam.models import get_account_id_from

    credentials = getattr(request_signer, "_credentials", None)
    access_key = credentials.get_frozen_credentials().access_key if credentials is not None else ""
    return str(get_account_id_from(access_key))


def _request_body(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a serialised request (``before-call`` sees the request, not the caller's arguments)."""
    body = request.get("body") or b"{}"
    parsed = json.loads(body.decode() if isinstance(body, bytes) else body)
    return parsed if isinstance(parsed, dict) else {}


def _ok(model: Any, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    validate_parameters(body, model.output_shape)  # the shape AWS answers, as botocore's Stubber checks it
    return AWSResponse(None, 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def _error(code: str, message: str, status: int) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, status, {}, None), {
        "Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
