#!/usr/bin/env python3
"""End-to-end check of the apimetrics command over real stores.

usage: cli_check.py APIMETRICS_BINARY DEMO_BINARY

Two demo instances, each writing its own store (APIMETRICS_STORE), are sent
a known set of calls and stopped with SIGTERM; then the built `apimetrics`
reads both stores: `report` (JSON and CSV) counts every call sent, per route
and per consumer; `calls --json` lists every call once, newest first; `usage`
sums each consumer's calls; wrong arguments exit 2, unreadable files exit 1.
Bounded: 2 x 60 calls, every step under a timeout.
"""
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import call, start_demo  # noqa: E402

CONSUMERS = ["acme", "globex", None]


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def run(binary, *arguments):
    result = subprocess.run([binary, *arguments], capture_output=True, timeout=60)
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, demo = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="apimetrics-cli-")
    sent = []  # (method, route, status, consumer)
    stores = []
    for instance in ["a", "b"]:
        store = os.path.join(work, f"{instance}.sqlite")
        stores.append(store)
        env = {"APIMETRICS_STORE": store, "APIMETRICS_INSTANCE_ID": instance}
        process, port, _, err = start_demo(demo, env, work, f"demo-{instance}", "cli_check")
        try:
            for n in range(60):
                consumer = CONSUMERS[n % len(CONSUMERS)]
                headers = {"X-API-Key": f"demo-key-{consumer}"} if consumer else {}
                path, route = (("/fail", "/fail") if n % 10 == 0 else (f"/orders/{n % 7 + 1}", "/orders/{id}"))
                status = call(port, "GET", path, headers)
                sent.append(("GET", route, status, consumer))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                fail(f"demo {instance} did not stop on SIGTERM")
        if code != 0:
            err.seek(0)
            fail(f"demo {instance} exited {code}: {err.read()}")

    code, out, err = run(binary, "report", *stores, "--since", "1h", "--format", "json")
    if code != 0:
        fail(f"report exited {code}: {err}")
    rows = json.loads(out)
    by_route = {(row["method"], row["route"]): row for row in rows}
    for key in {(m, r) for m, r, _, _ in sent}:
        expected = [s for s in sent if (s[0], s[1]) == key]
        row = by_route.get(key)
        if row is None or row["calls"] != len(expected):
            fail(f"report: {key} has {row and row['calls']} calls, {len(expected)} were sent")
        if row["server_errors"] != sum(1 for s in expected if s[2] >= 500):
            fail(f"report: {key} server errors {row['server_errors']}")
        if row["client_errors"] != sum(1 for s in expected if 400 <= s[2] < 500):
            fail(f"report: {key} client errors {row['client_errors']}")
        if not (row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]):
            fail(f"report: {key} percentiles out of order: {row}")
    if sum(row["calls"] for row in rows) != len(sent):
        fail(f"report: {sum(row['calls'] for row in rows)} calls, {len(sent)} sent")

    code, out, err = run(binary, "report", *stores, "--by", "consumer", "--format", "csv")
    table = list(csv.reader(io.StringIO(out, newline="")))
    if code != 0 or table[0] != ["consumer", "name", "calls", "client_errors", "server_errors"]:
        fail(f"report --by consumer: exit {code}, {table[:1]} {err}")
    for consumer in ["acme", "globex"]:
        counted = [r for r in table[1:] if r[0] == consumer]
        expected = sum(1 for s in sent if s[3] == consumer)
        if not counted or int(counted[0][2]) != expected:
            fail(f"report --by consumer: {consumer} {counted}, {expected} sent")

    code, out, err = run(binary, "calls", *stores, "--json", "--limit", "1000")
    calls = [json.loads(line) for line in out.splitlines()]
    if code != 0 or len(calls) != len(sent) or len({c["id"] for c in calls}) != len(sent):
        fail(f"calls: exit {code}, {len(calls)} calls listed, {len(sent)} sent {err}")
    if any(a["time_ns"] < b["time_ns"] for a, b in zip(calls, calls[1:])):
        fail("calls: not newest first")
    if {c["store"] for c in calls} != set(stores):
        fail("calls: not both stores")
    code, out, err = run(binary, "calls", *stores, "--status", "5xx", "--consumer", "acme", "--json")
    expected = sum(1 for s in sent if s[2] >= 500 and s[3] == "acme")
    if code != 0 or len(out.splitlines()) != expected:
        fail(f"calls --status 5xx --consumer acme: {len(out.splitlines())} lines, {expected} expected")

    code, out, err = run(binary, "usage", *stores)
    usage = list(csv.reader(io.StringIO(out, newline="")))
    if code != 0 or usage[0] != ["period", "consumer", "calls"]:
        fail(f"usage: exit {code}, {usage[:1]} {err}")
    for consumer in ["acme", "globex"]:
        total = sum(int(r[2]) for r in usage[1:] if r[1] == consumer)
        if total != sum(1 for s in sent if s[3] == consumer):
            fail(f"usage: {consumer} {total}")

    for arguments, status in [
        (["--help"], 0), (["report", "--help"], 0), (["report", stores[0], "--since", "soon"], 2),
        (["calls", stores[0], "--limit", "0"], 2), (["nope"], 2),
        (["report", os.path.join(work, "missing.sqlite")], 1), (["usage", os.path.join(work, "demo-a.err")], 1),
    ]:
        code, out, err = run(binary, *arguments)
        if code != status:
            fail(f"{arguments}: exit {code}, expected {status}: {err}")
        if status != 0 and (out or not err.startswith("apimetrics: ")):
            fail(f"{arguments}: the error went to the wrong place: {out!r} {err!r}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"cli: {len(sent)} calls over 2 stores read back by report, calls and usage; exit codes 0, 1, 2")


if __name__ == "__main__":
    main()
