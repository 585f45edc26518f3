"""Proves the end-to-end client drivers (PyMySQL, psycopg2, JDBC) work against the real servers directly,
so later proxy tests that use them fail only because of the proxy."""

import os
import subprocess

import psycopg2
import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
JDBC_CLASSPATH = "/usr/share/java/mariadb-java-client.jar:/usr/share/java/postgresql.jar"


def test_pymysql_queries_writes_and_reports_errors(mysql_connect, unique_table):
    connection = mysql_connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 + 1, NULL, %s", ("héllo",))
        assert cursor.fetchone() == (2, None, "héllo")
        cursor.execute(f"CREATE TABLE {unique_table} (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20))")
        try:
            assert cursor.executemany(f"INSERT INTO {unique_table} (v) VALUES (%s)", [("a",), ("b",), ("c",)]) == 3
            cursor.execute(f"SELECT v FROM {unique_table} ORDER BY id")
            assert [row[0] for row in cursor.fetchall()] == ["a", "b", "c"]
        finally:
            cursor.execute(f"DROP TABLE {unique_table}")
        with pytest.raises(pymysql.err.ProgrammingError) as raised:
            cursor.execute("SELECT * FROM no_such_table_here")
        assert raised.value.args[0] == 1146


def test_pymysql_sends_connection_attributes_and_uses_tls(mysql_connect, servers):
    connection = mysql_connect(program_name="e2e", ssl={"ca": servers.tls_cert, "check_hostname": False})
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        assert cursor.fetchone()[1] != ""


def test_pymysql_reaches_the_shadow_server(mysql_connect, servers):
    connection = mysql_connect(port=servers.mysql.shadow_port)
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@port")
        assert cursor.fetchone()[0] == servers.mysql.shadow_port


def test_psycopg2_queries_writes_and_reports_sqlstate(pg_connect, unique_table):
    connection = pg_connect(application_name="e2e", options="-c shadowgate.lane=gray")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::int + 1, NULL, current_setting('shadowgate.lane')", (41,))
        assert cursor.fetchone() == (42, None, "gray")
        cursor.execute(f"CREATE TABLE {unique_table} (id serial PRIMARY KEY, v text)")
        try:
            cursor.executemany(f"INSERT INTO {unique_table} (v) VALUES (%s)", [("a",), ("b",)])
            cursor.execute(f"SELECT v FROM {unique_table} ORDER BY id")
            assert cursor.fetchall() == [("a",), ("b",)]
        finally:
            cursor.execute(f"DROP TABLE {unique_table}")
        with pytest.raises(psycopg2.errors.UndefinedTable) as raised:
            cursor.execute("SELECT * FROM no_such_table_here")
        assert raised.value.pgcode == "42P01"


def test_psycopg2_uses_tls_and_reaches_the_shadow_server(pg_connect, servers):
    connection = pg_connect(port=servers.postgres.shadow_port, sslmode="require")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (True,)
        cursor.execute("SELECT current_setting('port')::int")
        assert cursor.fetchone()[0] == servers.postgres.shadow_port


def run_jdbc(java, url, user, password, sql, *params):
    return subprocess.run(
        [java, "-cp", JDBC_CLASSPATH, os.path.join(HERE, "jdbc", "JdbcCheck.java"), url, user, password, sql,
         *params],
        capture_output=True, text=True, timeout=120,
    )


def test_jdbc_check_runs_against_mariadb(java, servers):
    m = servers.mysql
    url = f"jdbc:mariadb://{m.host}:{m.port}/mse_demo"
    done = run_jdbc(java, url, m.user, m.password, "SELECT ? AS a, NULL AS b", "hello")
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines() == ["hello\t\\N", "rows=1"]
    failed = run_jdbc(java, url, m.user, m.password, "SELECT * FROM no_such_table_here")
    assert failed.returncode == 1
    assert "sqlstate=42S02" in failed.stdout and "code=1146" in failed.stdout


def test_jdbc_check_runs_against_postgresql(java, servers):
    p = servers.postgres
    url = f"jdbc:postgresql://{p.host}:{p.port}/mse_demo?sslmode=disable"
    done = run_jdbc(java, url, p.user, p.password, "SELECT ?::int + 1 AS a", "41")
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines() == ["42", "rows=1"]
    failed = run_jdbc(java, url, p.user, p.password, "SELECT * FROM no_such_table_here")
    assert failed.returncode == 1
    assert "sqlstate=42P01" in failed.stdout
