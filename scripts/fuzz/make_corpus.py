#!/usr/bin/env python3
"""Turns captures (scripts/fuzz/capture.sh) and the repository's statements, tests and configs into fuzz seeds.

Usage: make_corpus.py CAPTURE_DIR OUT_DIR
Writes OUT_DIR/<target>/<sha1> for every target of scripts/fuzz/run.sh. Seeds are raw; run
`scripts/fuzz/run.sh --merge` afterwards to keep only those that add coverage. Seed formats (see each harness):
  mysql-client   1 selector byte (greeting variant) + the client's bytes: handshake response, then ≤ 24 commands
  mysql-server   1 byte (deprecate EOF) + for each command: 1 selector byte (what the answer is for) + the answer
  pg-frontend    the client's bytes: startup packet(s), then ≤ 24 typed messages
  pg-backend     1 byte (lane) + the server's bytes
  sql-lexer, sql-rewrite   one SQL text (fixtures, test suites, captured queries)
  config         one YAML document (fixtures/configs, YAML blocks of the docs)
"""

import glob
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHUNK = 24


def records(path):
    """Yields (direction, bytes) records of a .cap file."""
    with open(path, "rb") as f:
        data = f.read()
    i = 0
    while i + 5 <= len(data):
        direction = data[i:i + 1]
        (length,) = struct.unpack(">I", data[i + 1:i + 5])
        yield direction, data[i + 5:i + 5 + length]
        i += 5 + length


def stream(path, direction):
    return b"".join(chunk for d, chunk in records(path) if d == direction)


def mysql_packets(data):
    """Splits a MySQL byte stream into whole frames (header included)."""
    out, i = [], 0
    while i + 4 <= len(data):
        length = data[i] | data[i + 1] << 8 | data[i + 2] << 16
        out.append(data[i:i + 4 + length])
        i += 4 + length
    return out


def pg_messages(data):
    """Splits a PostgreSQL client stream into untyped startup packets, then typed messages."""
    out, i, startup = [], 0, True
    while i < len(data):
        if startup:
            if i + 8 > len(data):
                break
            (length, code) = struct.unpack(">ii", data[i:i + 8])
            out.append(data[i:i + length])
            i += length
            if code >> 16 == 3:
                startup = False
            elif code == 80877102:
                break
            continue
        if i + 5 > len(data):
            break
        (length,) = struct.unpack(">i", data[i + 1:i + 5])
        out.append(data[i:i + 1 + length])
        i += 1 + length
    return out


# Command byte → index into mysql-server.swift's `expectations`.
MYSQL_SELECTOR = {0x03: 0, 0x17: 1, 0x16: 2, 0x04: 3, 0x0E: 4, 0x09: 4, 0x1A: 4, 0x1F: 4, 0x02: 0, 0x11: 5, 0x1C: 1}


def mysql_seeds(path):
    client = mysql_packets(stream(path, b"C"))
    if not client:
        return [], []
    handshake, commands = client[:1], client[1:]
    client_seeds = []
    for start in range(0, max(len(commands), 1), CHUNK):
        body = b"".join(handshake + commands[start:start + CHUNK])
        client_seeds.append(bytes([0]) + body)
    # Server answers, each prefixed by the selector of the command it answers.
    server_seeds, current, count = [], bytearray([1]), 0
    seen_client = 0
    for direction, chunk in records(path):
        if direction == b"C":
            seen_client += 1
            if seen_client <= 2:  # handshake response and auth data: answered by the authentication exchange
                current.append(5)
                continue
            for packet in mysql_packets(chunk):
                if len(packet) > 4 and packet[3] == 0 and packet[4] in MYSQL_SELECTOR:
                    current.append(MYSQL_SELECTOR[packet[4]])
                    count += 1
        elif seen_client:
            current += chunk
        if count >= CHUNK:
            server_seeds.append(bytes(current))
            current, count = bytearray([1]), 0
    if len(current) > 1:
        server_seeds.append(bytes(current))
    return client_seeds, server_seeds


def pg_seeds(path):
    messages = pg_messages(stream(path, b"C"))
    startup = []
    for m in messages:
        startup.append(m)
        if len(m) >= 8 and struct.unpack(">i", m[4:8])[0] >> 16 == 3:
            break
    typed = messages[len(startup):]
    frontend = [b"".join(startup + typed[s:s + CHUNK]) for s in range(0, max(len(typed), 1), CHUNK)]
    server = stream(path, b"S")
    backend = [bytes([0]) + server[s:s + 8192] for s in range(0, max(len(server), 1), 8192)]
    return frontend, backend


def sql_texts(captures):
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "statements", "*.sql"))):
        with open(path, "rb") as f:
            texts.append(f.read())
    keyword = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|SET|WITH|CALL|LOAD|COPY|LOCK|TRUNCATE|"
                         r"REPLACE|SHOW|USE|BEGIN|PREPARE|EXECUTE|EXPLAIN|RENAME|MERGE|RESET|DISCARD|VALUES|TABLE)\b",
                         re.IGNORECASE)
    literal = re.compile(r'#"(.*?)"#|"((?:[^"\\\n]|\\.)*)"')
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests", "*", "*.swift"))):
        with open(path, encoding="utf-8") as f:
            source = f.read()
        for raw, plain in literal.findall(source):
            text = raw or plain.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            if keyword.search(text) and len(text) > 6:
                texts.append(text.encode())
    # Queries seen on the wire: COM_QUERY/COM_STMT_PREPARE texts and PostgreSQL Query/Parse texts.
    for path in sorted(glob.glob(os.path.join(captures, "mysql", "*.cap"))):
        for packet in mysql_packets(stream(path, b"C"))[1:]:
            if len(packet) > 5 and packet[4] in (0x03, 0x16):
                texts.append(packet[5:])
    for path in sorted(glob.glob(os.path.join(captures, "pg", "*.cap"))):
        for m in pg_messages(stream(path, b"C")):
            if m[:1] == b"Q":
                texts.append(m[5:].rstrip(b"\0"))
            elif m[:1] == b"P":
                name_end = m.index(b"\0", 5)
                texts.append(m[name_end + 1:m.index(b"\0", name_end + 1)])
    return texts


def configs():
    docs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "fixtures", "configs", "**", "*.yaml"), recursive=True)):
        with open(path, "rb") as f:
            docs.append(f.read())
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            for block in re.findall(r"```yaml\n(.*?)```", f.read(), re.DOTALL):
                docs.append(block.encode())
    return docs


def write(out, target, seeds):
    directory = os.path.join(out, target)
    os.makedirs(directory, exist_ok=True)
    for seed in seeds:
        if seed:
            with open(os.path.join(directory, hashlib.sha1(seed).hexdigest()), "wb") as f:
                f.write(seed)
    print("make_corpus.py: %-13s %d seeds" % (target, len(os.listdir(directory))))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    captures, out = sys.argv[1], sys.argv[2]
    seeds = {t: [] for t in ("mysql-client", "mysql-server", "pg-frontend", "pg-backend")}
    for path in sorted(glob.glob(os.path.join(captures, "mysql", "*.cap"))):
        client, server = mysql_seeds(path)
        seeds["mysql-client"] += client
        seeds["mysql-server"] += server
    for path in sorted(glob.glob(os.path.join(captures, "pg", "*.cap"))):
        frontend, backend = pg_seeds(path)
        seeds["pg-frontend"] += frontend
        seeds["pg-backend"] += backend
    for target, items in seeds.items():
        write(out, target, items)
    texts = sql_texts(captures)
    write(out, "sql-lexer", texts)
    write(out, "sql-rewrite", texts)
    write(out, "config", configs())


if __name__ == "__main__":
    main()
