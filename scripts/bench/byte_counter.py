#!/usr/bin/env python3
"""A loopback TCP forwarder that counts the bytes it carries in both directions (for benchmarks: PostgreSQL keeps
no per-session byte counters). Usage: byte_counter.py LISTEN_PORT TARGET_HOST TARGET_PORT OUT_FILE.
Writes 0 to OUT_FILE once listening, and the running total after every closed connection and on SIGTERM."""
import os
import signal
import socket
import sys
import threading

listen_port, host, port, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
total = 0
lock = threading.Lock()


def write_total(*_):
    # The rename stays under the lock: two connections closing at once would otherwise race for the same .tmp file.
    with lock:
        with open(out + ".tmp", "w") as f:
            f.write(str(total))
        os.replace(out + ".tmp", out)


def pump(src, dst):
    global total
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                total += len(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    upstream = socket.create_connection((host, port))
    threads = [threading.Thread(target=pump, args=(client, upstream)), threading.Thread(target=pump, args=(upstream, client))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    upstream.close()
    write_total()


def stop(*_):
    write_total()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(16)
write_total()
while True:
    connection, _ = server.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
