#!/usr/bin/env bash
# Installs what Shadowgate's demo, tests and benchmarks need on Debian 12, only when missing.
# Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(
  mariadb-server mariadb-client libmariadb-dev
  postgresql postgresql-contrib libpq-dev postgresql-client
  python3-pymysql python3-psycopg2
  libmariadb-java libpostgresql-jdbc-java
  python3-pytest sysbench haproxy pgbouncer openssl curl procps chromium valgrind
  percona-toolkit time  # the diff benchmark only (pt-table-sync, /usr/bin/time -v)
)
if ! command -v javac >/dev/null 2>&1; then packages+=(default-jdk-headless); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  # Package scripts must not start the system-wide services: the tests start their own servers in temp dirs.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The python3 on PATH may not be Debian's (pyenv, venv): make sure it can import the drivers the tests use.
if ! python3 -c 'import pymysql, psycopg2, pytest' >/dev/null 2>&1; then
  echo "install-deps: installing Python drivers for $(command -v python3) from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check PyMySQL psycopg2-binary pytest 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages PyMySQL psycopg2-binary pytest
  python3 -c 'import pymysql, psycopg2, pytest' || { echo "install-deps: Python drivers unavailable" >&2; exit 1; }
fi
echo "install-deps: all dependencies present"
