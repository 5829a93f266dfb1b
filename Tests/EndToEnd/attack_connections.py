#!/usr/bin/env python3
"""Connections as an attacker holds them, against the demo's server and the
library's own metrics listener (APIMETRICS_METRICS_ADDR), on 127.0.0.1.

usage: attack_connections.py DEMO_BINARY

The demo runs with its open-file limit at 256, so each server's connection
limit is 64 (a quarter of it).

1. trickle:  twice the limit of clients on the demo's port and on the
             listener's, each sending a few bytes of a head every 2 s. The
             process stays up, an authorised scrape answers within 2 s while
             the demo's port is flooded, and every trickling client is closed
             within the head deadline (10 s, plus a margin for a busy machine).
2. flood:    500 connections at once on each port: those past the limit are
             closed at once, the process stays up and answers afterwards.
3. bodies:   8 POSTs announcing 16 MiB to /metrics with a wrong token, on the
             listener and on the demo: each is refused (401) on its head,
             with no 100 Continue, before the client sends a byte of body;
             RSS grows by less than 20 MB.
"""
import os
import resource
import socket
import sys
import threading
import time

from demo_process import exchange_raw, rss_kib, start_demo

DEMO = sys.argv[1]
TOKEN = "attack-check-token"
HEAD_DEADLINE = 10.0
LIMIT = 256 // 4


def log(message):
    print(f"attack_connections: {message}", flush=True)


def fail(message):
    print(f"attack_connections: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def scrape(port, token=TOKEN, timeout=2.0):
    """An authorised GET /metrics; (status, seconds) or (None, seconds)."""
    start = time.monotonic()
    try:
        data = exchange_raw(port, f"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                                  f"Connection: close\r\n\r\n".encode(), timeout)
        status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else None
        return status, time.monotonic() - start
    except OSError:
        return None, time.monotonic() - start


class Trickler(threading.Thread):
    """Connects, then sends a few bytes of a head that never ends, every
    2 s, until the server closes the connection or `stop` is set; records
    when it was closed, counted from the connect."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop, self.closed_after, self.refused = port, stop, None, False

    def run(self):
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        except OSError:
            self.refused = True
            return
        start = time.monotonic()
        sock.settimeout(2.0)
        pieces = [b"GET /orders HTTP/1.1\r\n"] + [b"X-Slow: aaaa\r\n"] * 1000
        try:
            for piece in pieces:
                if self.stop.is_set():
                    break
                sock.sendall(piece)
                try:
                    data = sock.recv(4096)
                    if not data:
                        break  # closed by the server
                    # An answer (408) then the close.
                    while sock.recv(4096):
                        pass
                    break
                except socket.timeout:
                    continue
        except OSError:
            pass
        finally:
            if not self.stop.is_set():
                self.closed_after = time.monotonic() - start
            sock.close()


def trickle(port, label, scrape_port=None):
    stop = threading.Event()
    clients = [Trickler(port, stop) for _ in range(2 * LIMIT)]
    for client in clients:
        client.start()
    scrapes = []
    if scrape_port is not None:
        time.sleep(1.0)
        for _ in range(3):
            scrapes.append(scrape(scrape_port))
            time.sleep(0.5)
    deadline = time.monotonic() + HEAD_DEADLINE + 15
    for client in clients:
        client.join(max(0.1, deadline - time.monotonic()))
    stop.set()
    still_open = [c for c in clients if c.is_alive()]
    held = [c.closed_after for c in clients if c.closed_after is not None]
    if still_open:
        fail(f"{label}: {len(still_open)} trickling clients still open after {HEAD_DEADLINE + 15:.0f} s")
    longest = max(held) if held else 0
    if longest > HEAD_DEADLINE + 3:
        fail(f"{label}: a trickling client was held {longest:.1f} s, past the {HEAD_DEADLINE:.0f} s head deadline")
    for status, seconds in scrapes:
        if status != 200 or seconds > 2.0:
            fail(f"{label}: an authorised scrape on the listener got {status} after {seconds:.2f} s under the trickle")
    served = sum(1 for c in clients if c.closed_after is not None and c.closed_after > 1.0)
    log(f"{label}: {len(clients)} trickling clients, {served} held until the head deadline, the rest closed at the limit; "
        f"longest held {longest:.1f} s"
        + (f"; scrapes on the listener meanwhile: {', '.join(f'{s} in {t * 1000:.0f} ms' for s, t in scrapes)}" if scrapes else ""))


def flood(port, label):
    sockets = []
    for _ in range(500):
        try:
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    closed = 0
    for sock in sockets:
        sock.settimeout(0.01)
        try:
            if sock.recv(1) == b"":
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
    for sock in sockets:
        sock.close()
    if closed < len(sockets) - LIMIT - 5:
        fail(f"{label}: of {len(sockets)} connections only {closed} were closed at once; the limit is {LIMIT}")
    log(f"{label}: {len(sockets)} connections at once, {closed} closed at the limit")


def announced_bodies(port, label, pid):
    before = rss_kib(pid)
    for _ in range(8):
        answer = exchange_raw(port, b"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n"
                                    b"Content-Length: 16777216\r\nExpect: 100-continue\r\n\r\n")
        if b"100 Continue" in answer:
            fail(f"{label}: 100 Continue before the token was checked")
        if not answer.startswith(b"HTTP/1.1 401"):
            fail(f"{label}: a wrong token with a 16 MiB body got {answer[:40]!r}")
    # And a body sent in full anyway: the answer comes on the head; the
    # server never reads it, so sending may fail once it closes.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 16777216\r\n\r\n")
        try:
            for _ in range(256):
                sock.sendall(b"x" * 65536)
        except OSError:
            pass
    grown = (rss_kib(pid) - before) / 1024
    if grown > 20:
        fail(f"{label}: RSS grew {grown:.1f} MB over 9 refused 16 MiB uploads")
    log(f"{label}: 8 POSTs announcing 16 MiB with a wrong token answered 401 on the head, no 100 Continue; RSS {grown:+.1f} MB")


def main():
    work = os.path.join("/tmp", f"apimetrics-attack-connections-{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    env = {
        "APIMETRICS_FILE": os.path.join(work, "events.ndjson"),
        "APIMETRICS_METRICS_ADDR": "127.0.0.1:0",
        "APIMETRICS_DASHBOARD_TOKEN": TOKEN,
    }
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        process, port, out, err = start_demo(DEMO, env, work, "demo", "attack_connections")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    out.seek(0)
    banner = out.read()
    if "metrics view also on port " not in banner:
        fail(f"the demo did not start its listener: {banner}")
    listener = int(banner.split("metrics view also on port ")[1].split()[0])
    with open(f"/proc/{process.pid}/limits") as limits:
        line = next(l for l in limits if l.startswith("Max open files"))
        if line.split()[3] != "256":
            fail(f"the demo's open-file limit is not 256: {line.strip()}")
    try:
        trickle(port, "trickle on the demo's port", scrape_port=listener)
        trickle(listener, "trickle on the listener")
        status, seconds = scrape(listener)
        if status != 200:
            fail(f"the listener answered {status} after the trickle")
        flood(port, "flood on the demo's port")
        flood(listener, "flood on the listener")
        announced_bodies(listener, "bodies on the listener", process.pid)
        announced_bodies(port, "bodies on the demo's port", process.pid)
        time.sleep(0.5)
        if process.poll() is not None:
            fail(f"the demo exited ({process.returncode}) under the attack")
        status, seconds = scrape(listener)
        if status != 200:
            fail(f"the listener answered {status} after the attacks")
        status, _ = scrape(port)
        if status != 200:
            fail(f"the demo's own /metrics answered {status} after the attacks")
        log(f"the process stayed up; a scrape afterwards took {seconds * 1000:.0f} ms")
    finally:
        process.terminate()
        try:
            code = process.wait(timeout=30)
        except Exception:
            process.kill()
            code = None
        if code not in (0, None):
            err.seek(0)
            fail(f"the demo exited {code} after SIGTERM: {err.read()[-2000:]}")
    log("passed")


if __name__ == "__main__":
    main()
