"""The local runtime against a small template of its own (and, where it matters, the real one).

Warm and cold containers, hot reload of a function and of a layer, parallel requests and reserved
concurrency, timeouts, REST v1 event fidelity, the TOKEN authorizer, per-function environments,
schedules on a test clock, `hrms invoke` / `hrms trigger`, and what is reported as not emulated.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import hrms.observability  # noqa: F401 - bind the Powertools logger to the real stdout, not CliRunner's
from hrms_tools.cli.main import app as cli
from hrms_tools.local.gateway import LocalGateway, make_server
from hrms_tools.local.runtime import LocalRuntime, RuntimeOptions
from hrms_tools.local.schedule import ManualClock, Scheduler
from hrms_tools.local.template import Template
from tests.conftest import ROOT, bearer

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {Type: String, Default: hello, AllowedValues: [hello, hi, hey]}
  Secret: {Type: String}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 5
    Layers: [!Ref LocalLayer]
    Environment:
      Variables:
        GREETING: !Ref Greeting
        REGION_NAME: !Sub "${AWS::Region}-${Greeting}"
        SECRET_VALUE: !Ref Secret
Resources:
  LocalLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: test
      Variables: {color: blue}
      BinaryMediaTypes: ["image~1png"]
      MethodSettings: [{ResourcePath: "/*", HttpMethod: "*", ThrottlingBurstLimit: 10}]
      Cors:
        AllowOrigin: "'https://app.example.com'"
        AllowHeaders: "'Authorization'"
        AllowMethods: "'GET,POST'"
        MaxAge: "'60'"
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity: {Header: Authorization, ReauthorizeEvery: 300, ValidationExpression: "^Bearer [-a-z0-9]+$"}
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/auth/, Handler: app.handler}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo/
      Handler: app.handler
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/echo/{id}", Method: GET}}
        Post: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/echo/{id}", Method: POST}}
  PublicFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/public/
      Handler: app.handler
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /public, Method: GET, Auth: {Authorizer: NONE}}}
  SleepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sleep/
      Handler: app.handler
      Timeout: 1
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /sleep, Method: GET, Auth: {Authorizer: NONE}}}
  LimitedFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sleep/
      Handler: app.handler
      ReservedConcurrentExecutions: 1
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /limited, Method: GET, Auth: {Authorizer: NONE}}}
  EnvFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/env/
      Handler: app.handler
      Environment: {Variables: {MIGRATION_WORKERS: "7"}}
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /env, Method: GET, Auth: {Authorizer: NONE}}}
  OtherEnvFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/env/
      Handler: app.handler
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /env2, Method: GET, Auth: {Authorizer: NONE}}}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/tick/
      Handler: app.handler
      FancyFeature: true
      Events:
        Daily: {Type: Schedule, Properties: {Schedule: "cron(0 10 * * ? *)"}}
        Sweep: {Type: ScheduleV2, Properties: {ScheduleExpression: "rate(5 minutes)", Input: '{"job": "sweep"}'}}
        Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}}
  HttpApi:
    Type: AWS::Serverless::HttpApi
"""

AUTH = """
def handler(event, context):
    token = event["authorizationToken"].removeprefix("Bearer ")
    api = "/".join(event["methodArn"].split("/")[:2])

    def policy(effect, resource=api + "/*/*", context=None):
        statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        doc = {"Version": "2012-10-17", "Statement": [statement]}
        return {"principalId": "user-" + token, "policyDocument": doc, "context": context or {}}

    if token.startswith("allow"):
        return policy("Allow", context={"user": token, "n": 5, "ok": True, "ratio": 0.5})
    if token == "deny":
        return policy("Deny")
    if token == "object":
        return policy("Allow", context={"nested": {"a": 1}})
    if token == "get-only":
        return policy("Allow", resource=api + "/GET/*")
    raise Exception("Unauthorized")
"""

ECHO = """
import base64, json
import {layer} as layer

VERSION = "v1"
IMPORTED_AT = __import__("time").monotonic()

def handler(event, context):
    if (event.get("queryStringParameters") or {{}}).get("binary"):
        body = base64.b64encode(b"\\x89PNG\\x00\\xff").decode()
        return {{"statusCode": 200, "headers": {{"Content-Type": "image/png"}}, "body": body, "isBase64Encoded": True}}
    payload = {{"event": event, "layer": layer.VALUE, "version": VERSION, "importedAt": IMPORTED_AT}}
    return {{"statusCode": 200, "headers": {{"Content-Type": "application/json"}}, "body": json.dumps(payload)}}
"""

PUBLIC = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
"""

SLEEP = """
import json, time

def handler(event, context):
    seconds = float((event.get("queryStringParameters") or {}).get("s", "0"))
    start = time.monotonic()
    time.sleep(seconds)
    return {"statusCode": 200, "body": json.dumps({"start": start, "end": time.monotonic(), "module": __name__})}
"""

ENV = """
import json, os
from hrms.config import settings

def handler(event, context):
    cfg = settings()
    env = {k: os.environ.get(k) for k in ("GREETING", "REGION_NAME", "SECRET_VALUE", "CUSTOM_VAR")}
    body = {"maxBodyBytes": cfg.max_body_bytes, "migrationWorkers": cfg.migration_workers, "env": env}
    return {"statusCode": 200, "body": json.dumps(body)}
"""

TICK = """
def handler(event, context):
    return {"received": event, "function": context.function_name}
"""


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A SAM application of our own: template, functions and a layer with a package named for this test."""
    layer = f"rtlayer_{secrets.token_hex(4)}"
    files = {
        "template.yaml": TEMPLATE,
        "functions/auth/app.py": AUTH,
        "functions/echo/app.py": ECHO.format(layer=layer),
        "functions/public/app.py": PUBLIC,
        "functions/sleep/app.py": SLEEP,
        "functions/env/app.py": ENV,
        "functions/tick/app.py": TICK,
        f"layer/{layer}/__init__.py": 'VALUE = "one"\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@contextmanager
def serving(gateway: LocalGateway) -> Iterator[httpx.Client]:
    server = make_server(gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=30) as http:
            yield http
    finally:
        server.shutdown()
        server.server_close()


def local_gateway(app: Path, **options: Any) -> LocalGateway:
    return LocalGateway(Template.load(app / "template.yaml"), RuntimeOptions(**options))


def edit(path: Path, old: str, new: str) -> None:
    """Change a file as an editor would, with an mtime that certainly differs."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# ----------------------------------------------------------------------------- warm and cold


def test_a_warm_container_serves_every_request_after_one_logged_cold_start(
    app_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local-runtime")
    gateway = local_gateway(app_dir)
    with serving(gateway) as http:
        bodies = [http.get("/echo/1", headers=bearer("allow-a")).json() for _ in range(3)]
    assert {body["importedAt"] for body in bodies} == {bodies[0]["importedAt"]}  # imported once, reused
    pool = gateway.containers.get("EchoFunction")
    assert pool.stats.cold_starts == 1 and pool.stats.invocations == 3 and pool.size == 1
    assert pool.stats.last_init_ms is not None and pool.stats.last_init_ms > 0
    cold_logs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cold start EchoFunction")]
    assert len(cold_logs) == 1 and "init" in cold_logs[0] and "ms" in cold_logs[0]


def test_cold_mode_imports_the_function_afresh_for_every_request(app_dir: Path) -> None:
    gateway = local_gateway(app_dir, cold=True)
    with serving(gateway) as http:
        bodies = [http.get("/echo/1", headers=bearer("allow-a")).json() for _ in range(3)]
    assert len({body["importedAt"] for body in bodies}) == 3
    assert gateway.containers.get("EchoFunction").stats.cold_starts == 3


# ----------------------------------------------------------------------------- hot reload


def test_editing_a_function_applies_to_the_next_request_and_only_to_it(app_dir: Path) -> None:
    gateway = local_gateway(app_dir, hot_reload=True)
    with serving(gateway) as http:
        assert http.get("/echo/1", headers=bearer("allow-a")).json()["version"] == "v1"
        assert http.get("/public").status_code == 200
        edit(app_dir / "functions/echo/app.py", 'VERSION = "v1"', 'VERSION = "v2"')
        assert http.get("/echo/1", headers=bearer("allow-a")).json()["version"] == "v2"
        assert http.get("/public").status_code == 200
    assert gateway.containers.get("EchoFunction").stats.cold_starts == 2
    assert gateway.containers.get("PublicFunction").stats.cold_starts == 1  # not re-imported
    assert gateway.containers.get("AuthFunction").stats.cold_starts == 1
    assert gateway.runtime.reloader is not None
    assert [fid for fid, _ in gateway.runtime.reloader.reloads] == ["EchoFunction"]


def test_editing_the_layer_re_imports_it_for_every_function(app_dir: Path) -> None:
    gateway = local_gateway(app_dir, hot_reload=True, reload_interval_s=0)
    layer_init = next((app_dir / "layer").glob("rtlayer_*/__init__.py"))
    with serving(gateway) as http:
        assert http.get("/echo/1", headers=bearer("allow-a")).json()["layer"] == "one"
        edit(layer_init, 'VALUE = "one"', 'VALUE = "two"')
        assert http.get("/echo/1", headers=bearer("allow-a")).json()["layer"] == "two"
        assert http.get("/public").status_code == 200
    assert gateway.runtime.reloader is not None
    assert [fid for fid, _ in gateway.runtime.reloader.reloads] == ["layer"]
    assert gateway.containers.get("EchoFunction").stats.cold_starts == 2


def test_a_function_that_does_not_import_is_an_error_until_it_is_fixed(app_dir: Path) -> None:
    gateway = local_gateway(app_dir, hot_reload=True)
    with serving(gateway) as http:
        edit(app_dir / "functions/public/app.py", "import json", "import json, no_such_module_here")
        broken = http.get("/public")
        assert broken.status_code == 502 and broken.headers["content-type"] == "application/problem+json"
        edit(app_dir / "functions/public/app.py", "import json, no_such_module_here", "import json")
        assert http.get("/public").status_code == 200


# ----------------------------------------------------------------------------- concurrency


def test_requests_to_one_function_run_in_parallel_containers(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    with serving(gateway) as http, ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        responses = list(pool.map(lambda _: http.get("/sleep", params={"s": "0.4"}), range(4)))
        elapsed = time.monotonic() - started
    assert [r.status_code for r in responses] == [200] * 4
    spans = [r.json() for r in responses]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans)  # all four overlapped in time
    assert elapsed < 1.5  # serialised they would take 1.6 s
    assert len({s["module"] for s in spans}) == 4  # four containers, each its own module instance
    assert gateway.containers.get("SleepFunction").stats.peak_concurrency == 4


def test_reserved_concurrency_throttles_the_excess_with_429(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    with serving(gateway) as http, ThreadPoolExecutor(3) as pool:
        first = pool.submit(http.get, "/limited", params={"s": "0.8"})
        limited = gateway.containers.get("LimitedFunction")
        deadline = time.monotonic() + 5
        while limited.stats.invocations == 0 and time.monotonic() < deadline:  # the first one holds the slot
            time.sleep(0.01)
        second, third = pool.submit(http.get, "/limited"), pool.submit(http.get, "/sleep")
        throttled, other = second.result(), third.result()
        assert first.result().status_code == 200
    assert throttled.status_code == 429
    assert throttled.json()["status"] == 429 and "reserved concurrency (1)" in throttled.json()["detail"]
    assert other.status_code == 200  # another function is not limited by it
    with serving(gateway) as http:
        assert http.get("/limited").status_code == 200  # the slot is free again
    assert gateway.containers.get("LimitedFunction").stats.throttles == 1


def test_two_tenants_in_parallel_each_get_only_their_own_data(
    client: httpx.Client, gateway: Any, stack: object, platform_actor: Any
) -> None:
    from hrms.auth import tokens
    from hrms.auth.users import find_user_by_email
    from hrms.tenants import service
    from hrms.tenants.models import NewTenant

    tokens_by_tenant = {}
    for name in ("alpha", "beta"):
        slug = f"par-{name}-{secrets.token_hex(3)}"
        tenant = service.create_tenant(
            NewTenant(name=f"Parallel {name}", slug=slug, admin_email=f"admin@{slug}.example.com"), platform_actor
        )
        admin = find_user_by_email(slug, tenant.admin_email)
        _clear_temporary_password(tenant.schema_name)
        token = tokens.issue(str(admin.user_id), admin.role, tid=str(admin.tenant_id))
        for n in range(3):
            created = client.post(
                "/departments",
                json={"name": f"{name} dept {n}", "code": f"{name[:2].upper()}{n}"},
                headers=bearer(token),
            )
            assert created.status_code == 201, created.text
        tokens_by_tenant[name] = token

    def departments(name: str) -> tuple[str, set[str]]:
        response = client.get("/departments", headers=bearer(tokens_by_tenant[name]))
        assert response.status_code == 200, response.text
        return name, {item["name"] for item in response.json()["items"]}

    pool = gateway.containers.get("ListDepartmentsFunction")
    before = pool.stats.peak_concurrency
    with ThreadPoolExecutor(8) as executor:
        results = list(executor.map(departments, ["alpha", "beta"] * 20))
    for name, names in results:
        assert names == {f"{name} dept {n}" for n in range(3)}, (name, names)
    assert pool.stats.peak_concurrency >= max(before, 2)  # the requests really ran side by side


def _clear_temporary_password(schema: str) -> None:
    from psycopg import sql

    from hrms.db.postgres import transaction

    with transaction() as conn:
        conn.execute(sql.SQL("UPDATE {} SET must_change_password = false").format(sql.Identifier(schema, "users")))


# ----------------------------------------------------------------------------- timeout


def test_an_invocation_over_its_timeout_is_504_and_its_container_is_replaced(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    with serving(gateway) as http:
        assert http.get("/sleep").status_code == 200
        started = time.monotonic()
        late = http.get("/sleep", params={"s": "8"})
        assert time.monotonic() - started < 5  # cut off at the function's Timeout (1 s), not after 8 s
        assert late.status_code == 504 and late.headers["content-type"] == "application/problem+json"
        assert "timed out after 1 s" in late.json()["detail"]
        assert http.get("/sleep").status_code == 200
    stats = gateway.containers.get("SleepFunction").stats
    assert stats.timeouts == 1 and stats.cold_starts == 2  # the timed-out container was discarded


# ----------------------------------------------------------------------------- REST v1 events


def test_the_function_receives_a_faithful_rest_proxy_event(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    with serving(gateway) as http:
        before = int(time.time() * 1000)
        response = http.get(
            "/echo/abc%20d",
            params=[("x", "1"), ("x", "2"), ("y", "3")],
            headers=[("Authorization", "Bearer allow-a"), ("X-Multi", "a"), ("X-Multi", "b"), ("User-Agent", "t/1")],
        )
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    assert event["resource"] == "/echo/{id}" and event["path"] == "/echo/abc d" and event["httpMethod"] == "GET"
    assert event["headers"]["X-Multi"] == "b" and event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["pathParameters"] == {"id": "abc d"}
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["stage"] == "test" and ctx["path"] == "/test/echo/abc d"
    assert ctx["resourcePath"] == "/echo/{id}" and ctx["httpMethod"] == "GET"
    assert uuid.UUID(ctx["requestId"]) and before <= ctx["requestTimeEpoch"] <= int(time.time() * 1000)
    assert ctx["identity"]["sourceIp"] == "127.0.0.1" and ctx["identity"]["userAgent"] == "t/1"
    assert ctx["accountId"] == "123456789012" and ctx["apiId"] and ctx["protocol"].startswith("HTTP/")
    # API Gateway hands the authorizer context to the function as strings.
    assert ctx["authorizer"]["user"] == "allow-a" and ctx["authorizer"]["principalId"] == "user-allow-a"
    assert (ctx["authorizer"]["n"], ctx["authorizer"]["ok"], ctx["authorizer"]["ratio"]) == ("5", "true", "0.5")


def test_bodies_are_base64_only_for_the_templates_binary_media_types(app_dir: Path) -> None:
    auth = bearer("allow-a")
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    with serving(local_gateway(app_dir)) as http:
        binary = http.post("/echo/1", content=png, headers={**auth, "Content-Type": "image/png"}).json()["event"]
        text = http.post("/echo/1", json={"a": "é"}, headers=auth).json()["event"]
        other = http.post("/echo/1", content=b"plain", headers={**auth, "Content-Type": "application/pdf"})
        as_image = http.get("/echo/1", params={"binary": "1"}, headers={**auth, "Accept": "image/png"})
        as_json = http.get("/echo/1", params={"binary": "1"}, headers={**auth, "Accept": "application/json"})
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == png
    assert text["isBase64Encoded"] is False and json.loads(text["body"]) == {"a": "é"}
    assert other.json()["event"]["isBase64Encoded"] is False  # not a listed binary type: passed as text
    assert as_image.content == b"\x89PNG\x00\xff"  # Accept matches BinaryMediaTypes: decoded
    assert base64.b64decode(as_json.content) == b"\x89PNG\x00\xff"  # otherwise API Gateway sends the base64 text


def test_cors_preflight_is_answered_from_the_template_without_the_authorizer(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    with serving(gateway) as http:
        response = http.options(
            "/echo/1", headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    assert response.headers["access-control-allow-methods"] == "GET,POST"
    assert response.headers["access-control-allow-headers"] == "Authorization"
    assert response.headers["access-control-max-age"] == "60"
    assert gateway.containers.get("AuthFunction").stats.invocations == 0


# ----------------------------------------------------------------------------- authorizer


def test_authorizer_outcomes_are_those_of_api_gateway(app_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    gateway = local_gateway(app_dir)
    calls = gateway.containers.get("AuthFunction").stats
    with serving(gateway) as http:
        assert http.get("/echo/1").status_code == 401  # no token: not called
        assert http.get("/echo/1", headers={"Authorization": "Basic abc"}).status_code == 401  # fails the regex
        assert calls.invocations == 0
        assert http.get("/echo/1", headers=bearer("nobody")).status_code == 401  # raises "Unauthorized"
        denied = http.get("/echo/1", headers=bearer("deny"))
        assert denied.status_code == 403 and denied.json()["title"] == "Forbidden"
        assert calls.invocations == 2
        # A policy allowing GET only: cached, and evaluated again for each method ARN, like API Gateway.
        assert http.get("/echo/1", headers=bearer("get-only")).status_code == 200
        assert http.post("/echo/1", headers=bearer("get-only")).status_code == 403
        assert calls.invocations == 3
        # A context value that is an object: a visible error, logged, not cached.
        with caplog.at_level(logging.ERROR, logger="local-runtime"):
            for _ in range(2):
                broken = http.get("/echo/1", headers=bearer("object"))
                assert broken.status_code == 500 and "nested" in broken.json()["detail"]
        assert calls.invocations == 5
        assert any("invalid result" in r.getMessage() for r in caplog.records)


def test_authorizer_results_are_cached_per_token_for_the_ttl(app_dir: Path) -> None:
    gateway = local_gateway(app_dir)
    now = [1000.0]
    gateway.auth_cache.clock = lambda: now[0]
    calls = gateway.containers.get("AuthFunction").stats
    with serving(gateway) as http:
        for _ in range(3):
            assert http.get("/echo/1", headers=bearer("allow-a")).status_code == 200
            assert http.get("/echo/1", headers=bearer("nobody")).status_code == 401  # refusals are cached too
        assert calls.invocations == 2
        assert http.get("/echo/1", headers=bearer("allow-b")).status_code == 200  # another token
        assert calls.invocations == 3
        now[0] += 299
        assert http.get("/echo/1", headers=bearer("allow-a")).status_code == 200
        assert calls.invocations == 3  # within ReauthorizeEvery (300 s)
        now[0] += 2
        assert http.get("/echo/1", headers=bearer("allow-a")).status_code == 200
        assert calls.invocations == 4  # expired: called again
        gateway.auth_cache.ttl_s = 0  # ReauthorizeEvery: 0 turns the cache off
        gateway.auth_cache.clear()
        for _ in range(2):
            http.get("/echo/1", headers=bearer("allow-a"))
        assert calls.invocations == 6


# ----------------------------------------------------------------------------- environment


def test_each_function_gets_its_own_settings_even_when_running_concurrently(app_dir: Path, stack: object) -> None:
    options: dict[str, Any] = {
        "parameter_overrides": {"Greeting": "hi"},
        "env_vars": {"OtherEnvFunction": {"MAX_BODY_BYTES": "2048"}, "Parameters": {"CUSTOM_VAR": "everyone"}},
    }
    gateway = local_gateway(app_dir, **options)
    envs = gateway.runtime.environments.functions
    assert envs["EnvFunction"]["GREETING"] == "hi" and envs["EnvFunction"]["REGION_NAME"] == "us-east-1-hi"
    assert envs["EnvFunction"]["MIGRATION_WORKERS"] == "7" and "MIGRATION_WORKERS" not in envs["OtherEnvFunction"]
    assert envs["OtherEnvFunction"]["MAX_BODY_BYTES"] == "2048" and envs["EnvFunction"]["CUSTOM_VAR"] == "everyone"
    assert "SECRET_VALUE" not in envs["EnvFunction"]  # a parameter without default or override
    with serving(gateway) as http, ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda path: (path, http.get(path).json()), ["/env", "/env2"] * 10))
    for path, body in results:
        if path == "/env":
            assert (body["migrationWorkers"], body["maxBodyBytes"]) == (7, 1_048_576)
        else:
            assert (body["migrationWorkers"], body["maxBodyBytes"]) == (4, 2048)
    # Variables that are not hrms.config settings cannot differ per function in one process: reported.
    assert any(w.startswith("CUSTOM_VAR:") and "not applied" in w for w in gateway.warnings)


def test_invoke_takes_env_vars_parameter_overrides_and_stdin(app_dir: Path, stack: object) -> None:
    env_file = app_dir / "env.json"
    env_file.write_text(json.dumps({"EnvFunction": {"CUSTOM_VAR": "added"}}))
    result = CliRunner().invoke(
        cli,
        [
            "invoke",
            "EnvFunction",
            "--event",
            "-",
            "--template",
            str(app_dir / "template.yaml"),
            "--env-vars",
            str(env_file),
            "--parameter-overrides",
            "Greeting=hey Secret=s3cr3t",
        ],
        input=json.dumps({"httpMethod": "GET"}),
    )
    assert result.exit_code == 0, result.output
    body = json.loads(json.loads(result.stdout)["body"])
    assert body["env"] == {
        "GREETING": "hey",
        "REGION_NAME": "us-east-1-hey",
        "SECRET_VALUE": "s3cr3t",
        "CUSTOM_VAR": "added",
    }
    assert body["migrationWorkers"] == 7
    assert "CUSTOM_VAR" not in os.environ and os.environ.get("GREETING") is None  # the process is left as it was
    refused = CliRunner().invoke(
        cli,
        [
            "invoke",
            "EnvFunction",
            "--event",
            "-",
            "--template",
            str(app_dir / "template.yaml"),
            "--parameter-overrides",
            "Greeting=yo",
        ],
        input="{}",
    )
    assert refused.exit_code == 2 and "not one of" in refused.output


def _invoke_failing(app_dir: Path, function: str, event: dict[str, Any]) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli, ["invoke", function, "--event", "-", "--template", str(app_dir / "template.yaml")], input=json.dumps(event)
    )
    assert result.exit_code == 1, f"{result.output}\n{result.exception!r}"
    assert "Traceback" not in result.output
    document: dict[str, Any] = json.loads(result.stdout)  # stdout carries the error document only
    assert f"✗ {function}: {document['errorType']}" in result.stderr
    return document


def test_invoke_prints_lambdas_error_document_and_exits_1(app_dir: Path, stack: object) -> None:
    raised = _invoke_failing(app_dir, "AuthFunction", {"authorizationToken": "Bearer nope", "methodArn": "a/b/c"})
    assert set(raised) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (raised["errorMessage"], raised["errorType"]) == ("Unauthorized", "Exception")
    uuid.UUID(raised["requestId"])
    # From the handler on, as Lambda's runtime reports it: none of the local runtime's (or the CLI's) frames.
    assert raised["stackTrace"][0].startswith(f'  File "{app_dir / "functions/auth/app.py"}", line ')
    assert raised["stackTrace"][-1].endswith('    raise Exception("Unauthorized")\n')
    assert len(raised["stackTrace"]) == 1

    timed_out = _invoke_failing(app_dir, "SleepFunction", {"queryStringParameters": {"s": "3"}})
    assert timed_out["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"RequestId: [-0-9a-f]{36} Error: Task timed out after 1\.00 seconds", timed_out["errorMessage"]
    )

    (app_dir / "functions/tick/app.py").write_text("import json\n\nSETTING = json.loads('not json')\n")
    init = _invoke_failing(app_dir, "TickFunction", {})
    assert init["errorType"] == "JSONDecodeError"
    assert init["stackTrace"][0].startswith(f'  File "{app_dir / "functions/tick/app.py"}", line 3, in <module>')


# ----------------------------------------------------------------------------- schedules


def test_template_schedules_fire_on_the_clock_with_eventbridge_events(app_dir: Path) -> None:
    template = Template.load(app_dir / "template.yaml")
    runtime = LocalRuntime(template)
    assert {s.id: s.expression for s in template.schedules} == {
        "TickFunctionDaily": "cron(0 10 * * ? *)",
        "TickFunctionSweep": "rate(5 minutes)",
    }
    clock = ManualClock(datetime(2025, 1, 1, 9, 59, 59, tzinfo=UTC))
    results: queue.Queue[tuple[str, Any, float]] = queue.Queue()

    def fire(spec: Any, event: Any, at: datetime) -> None:
        results.put((spec.id, runtime.fire(spec, event, at), time.monotonic()))

    scheduler = Scheduler(template.schedules, fire, clock=clock)
    scheduler.start()
    try:
        clock.advance(1)
        ticked = time.monotonic()
        schedule_id, result, when = results.get(timeout=1)
        assert schedule_id == "TickFunctionDaily" and when - ticked < 1
        assert result["function"] == "TickFunction"
        event = result["received"]
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["time"] == "2025-01-01T10:00:00Z" and event["detail"] == {}
        assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/TickFunctionDaily"]
        clock.advance(299)  # the rate is anchored at the scheduler's start (09:59:59)
        schedule_id, result, _ = results.get(timeout=1)
        assert (schedule_id, result["received"]) == ("TickFunctionSweep", {"job": "sweep"})
    finally:
        scheduler.stop()


def test_trigger_fires_a_schedule_of_the_real_template_now(stack: object) -> None:
    runner = CliRunner()
    template = str(ROOT / "template.yaml")
    shown = runner.invoke(cli, ["trigger", "CachePreloadFunction", "--print-event", "--template", template])
    assert shown.exit_code == 0, shown.output
    event = json.loads(shown.stdout)
    assert event["detail-type"] == "Scheduled Event" and event["resources"][0].endswith(
        ":rule/CachePreloadFunctionHourly"
    )
    fired = runner.invoke(cli, ["trigger", "CachePreloadFunctionHourly", "--template", template])
    assert fired.exit_code == 0, f"{fired.output}\n{fired.exception!r}"
    assert isinstance(json.loads(fired.stdout), dict)
    unknown = runner.invoke(cli, ["trigger", "HealthFunction", "--template", template])
    assert unknown.exit_code == 2 and "CachePreloadFunctionHourly" in unknown.output


# ----------------------------------------------------------------------------- what is not emulated


def test_what_the_runtime_does_not_emulate_is_reported(app_dir: Path) -> None:
    warnings = "\n".join(local_gateway(app_dir).warnings)
    for expected in (
        "SQS event: not emulated locally; use `hrms invoke --event` [TickFunction.Queue]",
        "FancyFeature: not supported by the local runtime [TickFunction]",
        "AWS::Serverless::HttpApi: not emulated locally [HttpApi]",
        "MethodSettings:",
        "SECRET_VALUE: only known in AWS and not set by the local stack",
    ):
        assert expected in warnings, warnings
    real = "\n".join(LocalGateway(Template.load(ROOT / "template.yaml")).warnings)
    assert "Policies: IAM is not enforced locally" in real and "VpcConfig" in real
