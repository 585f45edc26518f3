"""Fixtures for end-to-end tests with real client drivers (PyMySQL, psycopg2, JDBC).

They read the SHADOWGATE_* variables written by scripts/servers.sh (run the tests through scripts/test.sh, or
`source DIR/env.sh` after `bash scripts/servers.sh start DIR`). A missing variable fails the test with that
advice; these tests never skip. For now the fixtures connect straight to the servers; proxy tests will point the
same drivers at `shadowgate serve`.
"""

import os
import shutil
import uuid
from dataclasses import dataclass

import psycopg2
import pymysql
import pytest

REQUIRED = [
    "SHADOWGATE_MYSQL_HOST", "SHADOWGATE_MYSQL_PORT", "SHADOWGATE_MYSQL_SHADOW_PORT", "SHADOWGATE_MYSQL_USER",
    "SHADOWGATE_MYSQL_PASSWORD", "SHADOWGATE_PG_HOST", "SHADOWGATE_PG_PORT", "SHADOWGATE_PG_SHADOW_PORT",
    "SHADOWGATE_PG_USER", "SHADOWGATE_PG_PASSWORD", "SHADOWGATE_TLS_CERT",
]


@dataclass(frozen=True)
class Server:
    """One database endpoint: where it listens and how to log in."""

    host: str
    port: int
    shadow_port: int
    user: str
    password: str


@dataclass(frozen=True)
class Servers:
    """The base and shadow MariaDB and PostgreSQL servers started by scripts/servers.sh."""

    mysql: Server
    postgres: Server
    tls_cert: str


def _load_servers() -> Servers:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "end-to-end tests need the servers started by scripts/servers.sh; missing "
            + ", ".join(missing)
            + ". Run `bash scripts/test.sh`, or `bash scripts/servers.sh start DIR && source DIR/env.sh`.",
            pytrace=False,
        )
    env = os.environ

    def server(prefix: str) -> Server:
        return Server(
            host=env[f"SHADOWGATE_{prefix}_HOST"],
            port=int(env[f"SHADOWGATE_{prefix}_PORT"]),
            shadow_port=int(env[f"SHADOWGATE_{prefix}_SHADOW_PORT"]),
            user=env[f"SHADOWGATE_{prefix}_USER"],
            password=env[f"SHADOWGATE_{prefix}_PASSWORD"],
        )

    return Servers(mysql=server("MYSQL"), postgres=server("PG"), tls_cert=env["SHADOWGATE_TLS_CERT"])


@pytest.fixture(scope="session")
def servers() -> Servers:
    return _load_servers()


@pytest.fixture
def unique_table() -> str:
    """A table name no other test uses (lower case, valid in both dialects)."""
    return "e2e_" + uuid.uuid4().hex[:12]


@pytest.fixture
def mysql_connect(servers):
    """Opens PyMySQL connections (closed after the test); keyword arguments override the defaults."""
    opened = []

    def connect(port=None, database="mse_demo", **kwargs):
        options = dict(host=servers.mysql.host, port=port or servers.mysql.port, user=servers.mysql.user,
                       password=servers.mysql.password, database=database, autocommit=True,
                       connect_timeout=10, charset="utf8mb4")
        options.update(kwargs)
        connection = pymysql.connect(**options)
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        try:
            connection.close()
        except Exception:
            pass


@pytest.fixture
def pg_connect(servers):
    """Opens psycopg2 connections in autocommit mode (closed after the test); keyword arguments are libpq
    connection parameters that override the defaults."""
    opened = []

    def connect(port=None, dbname="mse_demo", **kwargs):
        options = dict(host=servers.postgres.host, port=port or servers.postgres.port, user=servers.postgres.user,
                       password=servers.postgres.password, dbname=dbname, connect_timeout=10, sslmode="disable")
        options.update(kwargs)
        connection = psycopg2.connect(**options)
        connection.autocommit = True
        opened.append(connection)
        return connection

    yield connect
    for connection in opened:
        connection.close()


@pytest.fixture(scope="session")
def java() -> str:
    """The `java` launcher (Java 17 runs single-file sources); fails, never skips, when it is missing."""
    path = shutil.which("java")
    if path is None:
        pytest.fail("java is not installed; run scripts/install-deps.sh", pytrace=False)
    return path
