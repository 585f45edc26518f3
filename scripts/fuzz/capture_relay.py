#!/usr/bin/env python3
"""Capture relay: a plain TCP relay between real clients and a real server that records every byte.

Each accepted connection gets a file OUT/conn-NNNNN.cap holding the conversation in order, as records
    direction (1 byte: b'C' client→server, b'S' server→client) | length (4 bytes, big endian) | bytes
exactly as they arrived from the socket. scripts/fuzz/make_corpus.py turns captures into fuzz seeds.

Clients must not negotiate TLS through the relay (an encrypted stream is useless as a seed): run them with
--skip-ssl / sslmode=disable.

Usage: capture_relay.py --listen PORT --upstream HOST:PORT --out DIR   (runs until SIGTERM/SIGINT)
"""

import argparse
import asyncio
import itertools
import os
import signal
import struct


async def pump(reader, writer, direction, log):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            log.write(direction + struct.pack(">I", len(data)) + data)
            log.flush()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--upstream", required=True, help="server HOST:PORT")
    parser.add_argument("--out", required=True, help="directory for the .cap files")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    os.makedirs(args.out, exist_ok=True)
    counter = itertools.count(1)

    async def handle(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        path = os.path.join(args.out, "conn-%05d.cap" % next(counter))
        with open(path, "wb") as log:
            await asyncio.gather(
                pump(client_reader, server_writer, b"C", log),
                pump(server_reader, client_writer, b"S", log),
            )

    server = await asyncio.start_server(handle, "127.0.0.1", args.listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
