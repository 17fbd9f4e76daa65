"""AWS APIs that moto does not simulate, answered in-process for the demo and the tests.

moto 5.2 has no App Runner, no Bedrock AgentCore code interpreters and no IAM Access Analyzer: in-process
it answers "not yet implemented", and its server an HTTP 500. The demo and the tests run the real collectors,
so the read calls they make (App Runner ListServices / DescribeService, AgentCore ListCodeInterpreters /
GetCodeInterpreter, Access Analyzer ListAnalyzers) are answered here, per account and Region, the way
botocore's Stubber answers: a ``before-call`` handler returns the parsed response, validated against
botocore's own output shape for the operation. Nothing here is imported by a collection against AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import botocore.handlers
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.validate import validate_parameters

_CREATED = datetime(2026, 1, 1, tzinfo=UTC)
_Answer = tuple[AWSResponse, dict[str, Any]]


class SimulatedServices:
    """App Runner services and AgentCore code interpreters by (account, Region), answered to every botocore
    session created while ``installed()``."""

    def __init__(self) -> None:
        self._apprunner: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._interpreters: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._analyzers: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def clear(self) -> None:
        self._apprunner.clear()
        self._interpreters.clear()
        self._analyzers.clear()

    def add_access_analyzer(self, account_id: str, region: str, name: str, analyzer_type: str = "ACCOUNT") -> str:
        """Seed an active IAM Access Analyzer analyzer (issue 13); returns its ARN."""
        arn = f"arn:aws:access-analyzer:{region}:{account_id}:analyzer/{name}"
        self._analyzers.setdefault((account_id, region), []).append(
            {"arn": arn, "name": name, "type": analyzer_type, "createdAt": _CREATED, "status": "ACTIVE"})
        return arn

    def _accessanalyzer_answer(self, model: Any, params: dict[str, Any], request_signer: Any = None,
                               **_: Any) -> _Answer:
        if model.name == "ListAnalyzers":
            return _ok(model, {"analyzers": list(self._analyzers.get(_where(request_signer), []))})
        return _error("NotImplemented", f"Access Analyzer {model.name} is not simulated", 501)

    def add_apprunner_service(self, account_id: str, region: str, name: str, instance_role_arn: str | None) -> str:
        """Seed a running App Runner service; returns its ARN."""
        service_id = _id(account_id, region, name)
        arn = f"arn:aws:apprunner:{region}:{account_id}:service/{name}/{service_id}"
        instance: dict[str, Any] = {"Cpu": "1024", "Memory": "2048"}
        if instance_role_arn:
            instance["InstanceRoleArn"] = instance_role_arn
        self._apprunner.setdefault((account_id, region), []).append({
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

    def add_code_interpreter(self, account_id: str, region: str, name: str, execution_role_arn: str | None) -> str:
        """Seed a ready AgentCore code interpreter; returns its ARN."""
        interpreter_id = f"{name}-{_id(account_id, region, name)[:10]}"
        arn = f"arn:aws:bedrock-agentcore:{region}:{account_id}:code-interpreter/{interpreter_id}"
        item: dict[str, Any] = {
            "codeInterpreterId": interpreter_id, "codeInterpreterArn": arn, "name": name,
            "networkConfiguration": {"networkMode": "PUBLIC"}, "status": "READY",
            "createdAt": _CREATED, "lastUpdatedAt": _CREATED,
        }
        if execution_role_arn:
            item["executionRoleArn"] = execution_role_arn
        self._interpreters.setdefault((account_id, region), []).append(item)
        return arn

    def _apprunner_answer(self, model: Any, params: dict[str, Any], request_signer: Any = None, **_: Any) -> _Answer:
        services = self._apprunner.get(_where(request_signer), [])
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

    def _agentcore_answer(self, model: Any, params: dict[str, Any], request_signer: Any = None, **_: Any) -> _Answer:
        interpreters = self._interpreters.get(_where(request_signer), [])
        if model.name == "ListCodeInterpreters":
            keys = ("codeInterpreterId", "codeInterpreterArn", "name", "status", "createdAt", "lastUpdatedAt")
            return _ok(model, {"codeInterpreterSummaries": [{k: i[k] for k in keys} for i in interpreters]})
        if model.name == "GetCodeInterpreter":
            wanted = unquote(str(params.get("url_path", "")).rstrip("/").rsplit("/", 1)[-1])
            found = next((i for i in interpreters if i["codeInterpreterId"] == wanted), None)
            if found is not None:
                return _ok(model, found)
            return _error("ResourceNotFoundException", f"code interpreter {wanted} not found", 404)
        return _error("NotImplemented", f"Bedrock AgentCore {model.name} is not simulated", 501)

    def handlers(self) -> list[tuple[str, Callable[..., _Answer]]]:
        return [("before-call.apprunner", self._apprunner_answer),
                ("before-call.bedrock-agentcore-control", self._agentcore_answer),
                ("before-call.accessanalyzer", self._accessanalyzer_answer)]

    @contextmanager
    def installed(self) -> Iterator[SimulatedServices]:
        """Answer these services on every botocore session created inside the block (an inner block's
        answers come first: its handlers go ahead of any outer simulation's)."""
        saved = list(botocore.handlers.BUILTIN_HANDLERS)
        botocore.handlers.BUILTIN_HANDLERS[:0] = self.handlers()
        try:
            yield self
        finally:
            botocore.handlers.BUILTIN_HANDLERS[:] = saved


def _id(account_id: str, region: str, name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{account_id}/{region}/{name}").hex


def _where(request_signer: Any) -> tuple[str, str]:
    """(moto account, Region) of a request: moto binds assumed-role access keys to their account."""
    from moto.iam.models import get_account_id_from

    credentials = getattr(request_signer, "_credentials", None)
    access_key = credentials.get_frozen_credentials().access_key if credentials is not None else ""
    return str(get_account_id_from(access_key)), str(getattr(request_signer, "region_name", "") or "us-east-1")


def _request_body(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a serialised request (``before-call`` sees the request, not the caller's arguments)."""
    body = request.get("body") or b"{}"
    parsed = json.loads(body.decode() if isinstance(body, bytes) else body)
    return parsed if isinstance(parsed, dict) else {}


def _response(status: int) -> AWSResponse:
    return AWSResponse("https://simulated.invalid/", status, HTTPHeaders(), None)


def _ok(model: Any, body: dict[str, Any]) -> _Answer:
    validate_parameters(body, model.output_shape)  # the shape AWS answers, as botocore's Stubber checks it
    return _response(200), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def _error(code: str, message: str, status: int) -> _Answer:
    return _response(status), {
        "Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
