#!/usr/bin/env python3
"""Issue 25, finding 9: the wire tap must record one call per response the
server sends, no more, no fewer, whatever it makes of the requests.

    python3 attack_wire.py DEMO_BINARY

Starts the demo writing its events to a file in a temporary directory, and
on raw sockets to 127.0.0.1 sends each case (a request the tap judges
malformed while the demo answers it, or the reverse) followed by five normal
requests on the same connection; counts the responses the demo sent, stops
it with SIGTERM, and fails unless the event file holds exactly one event per
response (no phantom NoResponse events, no response left unrecorded).
Bounded: 12 connections, 10 s each at most. Depends on nothing inside the
demo's server but what it answers on the wire.
"""
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import start_demo  # noqa: E402

TOOL = "attack_wire"
NORMAL = "GET /orders/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: attack-wire/1\r\n\r\n"
HEAD = "Host: 127.0.0.1\r\nUser-Agent: attack-wire/1\r\n"

CASES = [
    ("header name with @", f"GET /orders/1 HTTP/1.1\r\n{HEAD}X@Y: 1\r\n\r\n"),
    ("101 header fields", f"GET /orders/1 HTTP/1.1\r\n{HEAD}" + "".join(f"X-F{i}: v\r\n" for i in range(99)) + "\r\n"),
    ("Transfer-Encoding: chunked, identity",
     f"POST /orders HTTP/1.1\r\n{HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
     "c\r\n{\"item\":\"a\"}\r\n0\r\n\r\n"),
    ("Content-Length: +2", f"POST /orders HTTP/1.1\r\n{HEAD}Content-Type: application/json\r\nContent-Length: +2\r\n\r\n{{}}"),
    ("spaces around a chunk size",
     f"POST /orders HTTP/1.1\r\n{HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
     " 2 \r\n{}\r\n0\r\n\r\n"),
    ("5 KB chunk extension",
     f"POST /orders HTTP/1.1\r\n{HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
     "2;e=" + "x" * 5000 + "\r\n{}\r\n0\r\n\r\n"),
    ("< in the method", f"G<T /orders/1 HTTP/1.1\r\n{HEAD}\r\n"),
    ("two spaces in the request line", f"GET  /orders/1 HTTP/1.1\r\n{HEAD}\r\n"),
    ("HTTP/1.9", f"GET /orders/1 HTTP/1.9\r\n{HEAD}\r\n"),
    ("one leading blank line", f"\r\nGET /orders/1 HTTP/1.1\r\n{HEAD}\r\n"),
    ("two leading blank lines", f"\r\n\r\nGET /orders/1 HTTP/1.1\r\n{HEAD}\r\n"),
    ("three leading blank lines", f"\r\n\r\n\r\nGET /orders/1 HTTP/1.1\r\n{HEAD}\r\n"),
]


def fail(reason):
    print(f"FAILED: {reason}")
    sys.exit(1)


def count_responses(data):
    """The final responses in DATA, framed by Content-Length or chunked (the
    demo's answers to GET and POST); 1xx interim responses not counted."""
    count, at = 0, 0
    while True:
        end = data.find(b"\r\n\r\n", at)
        if end < 0 or not data.startswith(b"HTTP/1.", at):
            return count, data[at:]
        lines = data[at:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        at = end + 4
        if "chunked" in fields.get("transfer-encoding", "").lower():
            while True:
                line_end = data.find(b"\r\n", at)
                if line_end < 0:
                    return count, b"partial"
                size = int(data[at:line_end].split(b";")[0], 16)
                at = line_end + 2 + size + 2
                if size == 0:
                    break
        else:
            at += int(fields.get("content-length", "0"))
        if at > len(data):
            return count, b"partial"
        if status >= 200 or status == 101:
            count += 1


def attack(port, name, first):
    """Sends FIRST and five normal requests at once; returns how many
    responses the demo sent before it closed or went quiet."""
    payload = (first + "".join(NORMAL.format(i) for i in range(2, 7))).encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        data, deadline = b"", time.time() + 10
        while time.time() < deadline:
            count, rest = count_responses(data)
            # Six answered, or an answer after which the demo closes.
            if count >= 6:
                break
            sock.settimeout(max(0.1, min(2.0, deadline - time.time())))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        count, rest = count_responses(data)
        if rest not in (b"",):
            fail(f"{name}: the demo's answer could not be read whole: {data[-200:]!r}")
        print(f"{TOOL}: {name}: {count} responses")
        return count


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: attack_wire.py DEMO_BINARY")
    demo = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="apimetrics-wire-")
    try:
        events_path = os.path.join(work, "events.ndjson")
        process, port, out, err = start_demo(
            demo, {"APIMETRICS_FILE": events_path, "APIMETRICS_FLUSH_INTERVAL_MS": "200"}, work, "demo", TOOL)
        responses = 0
        try:
            for name, first in CASES:
                responses += attack(port, name, first)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=30)
            except Exception:
                process.kill()
                fail("the demo did not stop within 30 s of SIGTERM")
        if code != 0:
            err.seek(0)
            fail(f"the demo exited with {code}: {err.read()[-2000:]}")
        events = []
        with open(events_path, encoding="utf-8") as file:
            for line in file:
                # Events only: the startup, metrics and heartbeat records have a kind.
                if line.strip():
                    record = json.loads(line)
                    if "kind" not in record:
                        events.append(record)
        unanswered = [e for e in events if any("NoResponse" in json.dumps(x) for x in e.get("errors", []) or [])]
        print(f"{TOOL}: {responses} responses, {len(events)} events, {len(unanswered)} NoResponse")
        if unanswered:
            fail(f"{len(unanswered)} phantom NoResponse events, the first: {json.dumps(unanswered[0])[:500]}")
        if len(events) != responses:
            for event in events:
                request, response = event.get("request", {}), event.get("response") or {}
                print(f"  {request.get('method')} {request.get('url')} -> {response.get('status')} {event.get('errors')}")
            fail(f"{responses} responses sent but {len(events)} events recorded")
        print(f"{TOOL}: passed")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
