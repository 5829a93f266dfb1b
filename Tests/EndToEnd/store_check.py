"""The local store through the demo, as a user runs it:

1. Exact under load: a queue of 20 events and a burst of concurrent calls,
   so that events are dropped; the store's metrics windows still count every
   call sent, and the log holds what was kept (calls written + dropped =
   calls sent).
2. kill -9 while writing: the next start opens the file (checked by
   `PRAGMA integrity_check` in the real sqlite3 shell), nothing committed
   before the kill is lost, and the day view shows every run and the
   downtime between them.
3. The `apimetrics` command reads the same file.

usage: store_check.py DEMO APIMETRICS
"""
import concurrent.futures
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import call, start_demo  # noqa: E402

DEMO, CLI = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="apimetrics-store-check-")
STORE = os.path.join(WORK, "apimetrics.sqlite")
TOOL = "store-check"


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def log(message):
    print(f"store-check: {message}", flush=True)


VIEW_CALLS = [0]


def api(port, path):
    """One call to the view's JSON API (which records nothing of its own)."""
    VIEW_CALLS[0] += 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_apimetrics/api/v1/{path}", timeout=30) as response:
        return json.load(response)


def sqlite(sql):
    """One query through the real sqlite3 shell (read-only)."""
    out = subprocess.run(["sqlite3", "-readonly", STORE], input=sql, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        fail(f"sqlite3 {sql!r}: {out.stderr.strip()}")
    return out.stdout.strip()


def wait(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out waiting for {what}")


ENV = {"APIMETRICS_STORE": STORE, "APIMETRICS_METRICS_INTERVAL_S": "1", "APIMETRICS_FILE": "off",
       "APIMETRICS_SHUTDOWN_TIMEOUT_MS": "30000"}


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        fail("the demo did not stop within 60 s of SIGTERM")


def burst(port, count, workers=16):
    def one(n):
        return call(port, "GET", f"/orders/{n % 50}", headers={"X-API-Key": f"demo-key-{['acme', 'globex'][n % 2]}"})
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


# 1. Exact under load, with drops.
process, port, out, err = start_demo(DEMO, dict(ENV, APIMETRICS_QUEUE_SIZE="20", APIMETRICS_BATCH_SIZE="20",
                                               APIMETRICS_FLUSH_INTERVAL_MS="1000"), WORK, "run1", TOOL)
sent = 3_000
statuses = burst(port, sent)
if len(statuses) != sent:
    fail("not every call was answered")
pipeline = wait(lambda: (lambda p: p if p["queued"] == 0 else None)(api(port, "pipeline")), 60, "the queue to drain")
# The server finishes recording a call just after the client has its answer.
time.sleep(1)
stop(process)
# Shed by the recorder under overload, or dropped from the full queue: counted, not logged.
dropped = pipeline["dropped"]
counted = int(sqlite("SELECT coalesce(sum(requests), 0) FROM metrics WHERE tier = 0 AND series_id = 0"))
logged = int(sqlite("SELECT count(*) FROM calls"))
hour_count = int(sqlite("SELECT coalesce(sum(requests), 0) FROM metrics WHERE tier = 1 AND series_id = 0"))
day_count = int(sqlite("SELECT coalesce(sum(requests), 0) FROM metrics WHERE tier = 2 AND series_id = 0"))
if pipeline["dropped_queue_full"] == 0:
    fail("the burst dropped no event from the queue: the check needs a queue that overflows")
expected = sent
if counted != expected or hour_count != expected or day_count != expected:
    fail(f"the store's windows count {counted} (minutes), {hour_count} (hours), {day_count} (days), "
         f"not the {sent} calls sent (the {VIEW_CALLS[0]} to the view not among them)")
# Every call the pipeline recorded is logged, dropped (shed or from the full
# queue) or skipped (the view records nothing of its own).
if logged + dropped + pipeline["skipped"] != pipeline["recorded"] or pipeline["recorded"] < sent:
    fail(f"the log holds {logged} calls, {dropped} were dropped and {pipeline['skipped']} skipped: "
         f"not the {pipeline['recorded']} recorded of the {sent} sent; pipeline {pipeline}")
log(f"under load: {sent} calls sent (and {VIEW_CALLS[0]} to the view), {dropped} events dropped "
    f"({pipeline['dropped_queue_full']} from the full queue, {pipeline['dropped_shed']} shed), "
    f"{logged} logged; the windows count {counted} at minute, hour and day resolution")
first_run_end = time.time()
time.sleep(5)

# 2. kill -9 while writing.
process, port, out, err = start_demo(DEMO, dict(ENV, APIMETRICS_FLUSH_INTERVAL_MS="50"), WORK, "run2", TOOL)
burst(port, 400)
committed = wait(lambda: (lambda s: s if s["store"]["written_calls"] >= 400 else None)(api(port, "pipeline")),
                 60, "the second run's calls to be written")["store"]["written_calls"]
# And their window: what the day view counts is committed too.
counted_before_kill = wait(lambda: (lambda o: o["requests"] if o["requests"] >= expected + 400 else None)(api(port, "overview?range=24h")),
                           60, "the second run's window to be written")
# More traffic, and the kill lands while the writer is busy with it.
with concurrent.futures.ThreadPoolExecutor(1) as pool:
    pending = pool.submit(burst, port, 2_000, 8)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    try:
        pending.result(timeout=60)
    except Exception:
        pass
integrity = sqlite("PRAGMA integrity_check")
if integrity != "ok":
    fail(f"after kill -9 the file is damaged: {integrity}")
after_kill = int(sqlite("SELECT count(*) FROM calls"))
if after_kill < logged + committed:
    fail(f"after kill -9 the store holds {after_kill} calls, fewer than the {logged} + {committed} committed")
log(f"kill -9 while writing: the file passes integrity_check and holds {after_kill} calls "
    f"(at least the {logged} + {committed} committed before the kill)")
time.sleep(5)

process, port, out, err = start_demo(DEMO, ENV, WORK, "run3", TOOL)
burst(port, 100)
wait(lambda: api(port, "pipeline")["store"]["written_calls"] >= 100, 60, "the third run's calls")
time.sleep(2.5)
day = api(port, "overview?range=24h")
runs = day["uptime"]["runs"]
gaps = day["uptime"]["gaps"]
if len(runs) != 3:
    fail(f"the day view shows {len(runs)} runs, not 3: {runs}")
if len(gaps) < 2:
    fail(f"the day view shows {len(gaps)} gaps, not the 2 between the 3 runs: {gaps}")
if day["requests"] < counted_before_kill + 100:
    fail(f"the day view counts {day['requests']} calls, fewer than the {counted_before_kill} committed before the kill "
         f"and the 100 sent after")
err.seek(0)
if "was corrupt" in err.read():
    fail("the store was taken for corrupt after kill -9")
log(f"restart: the day view shows {len(runs)} runs, {len(gaps)} gaps between them, uptime {day['uptime']['ratio']}, "
    f"{day['requests']} calls")
stop(process)

# 3. The command reads it.
out = subprocess.run([CLI, "report", STORE, "--format", "json", "--since", "1h"], capture_output=True, text=True, timeout=60)
if out.returncode != 0:
    fail(f"apimetrics report: {out.stderr.strip()}")
rows = json.loads(out.stdout)
total = sum(row["calls"] for row in rows)
# The store after the last run stopped (its final window holds the view's last call too).
stored = int(sqlite("SELECT sum(requests) FROM metrics WHERE tier = 0 AND series_id = 0"))
if total != stored or total < day["requests"]:
    fail(f"apimetrics report counts {total} calls, the store {stored}, the view (before the last window) {day['requests']}")
log(f"apimetrics report reads the store: {len(rows)} endpoints, {total} calls")
# The README's queries, as a user runs them in the sqlite3 shell: each answers rows.
readme = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md"), encoding="utf-8").read()
queries = [block.split("```", 1)[0] for block in readme.split("```sql\n")[1:]]
if len(queries) != 3:
    fail(f"the README has {len(queries)} sql blocks, not 3")
for query in queries:
    answer = sqlite(query)
    if not answer:
        fail(f"the README's query answered nothing: {query}")
log(f"the README's {len(queries)} queries answer the store in the sqlite3 shell")
with sqlite3.connect(f"file:{STORE}?mode=ro", uri=True) as connection:
    mode = oct(os.stat(STORE).st_mode & 0o777)
    if mode != "0o600":
        fail(f"the store is {mode}, not 0600")
print("store-check: passed")
