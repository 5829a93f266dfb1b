"""Alerts through the demo, as a user sets them up: rules in a JSON file
(APIMETRICS_ALERTS), a signed webhook (APIMETRICS_ALERT_WEBHOOK_URL and
_SECRET) received by a server on loopback, the store kept across a restart.

1. /fail traffic fires the error-rate rule within its `for` plus one
   window; the receiver gets one `firing` message whose HMAC-SHA256 it
   verifies with the secret; a slow route fires the latency rule, and the
   failures a new error group;
2. the demo restarts while the failures go on: nothing is told again;
3. the failures stop: the error-rate rule resolves, once;
4. traffic stops: the silence rule fires; a call resolves it.

usage: alerts_check.py DEMO
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import call, start_demo  # noqa: E402

DEMO = sys.argv[1]
TOOL = "alerts-check"
WORK = tempfile.mkdtemp(prefix="apimetrics-alerts-check-")
SECRET = "whsec-" + os.urandom(12).hex()
RECEIVED = []
LOCK = threading.Lock()


def log(message):
    print(f"{TOOL}: {message}", flush=True)


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


class Receiver(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        timestamp = self.headers.get("APIMetrics-Timestamp", "")
        signature = self.headers.get("APIMetrics-Signature", "")
        expected = "v1=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        with LOCK:
            RECEIVED.append({"at": time.time(), "verified": hmac.compare_digest(signature, expected)
                             and abs(time.time() - int(timestamp or 0)) < 300, "message": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def told(rule=None):
    with LOCK:
        return [(r["message"]["state"], r["message"]["rule"]) for r in RECEIVED if rule is None or r["message"]["rule"] == rule]


def wait_for(condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return time.time()
        time.sleep(0.2)
    fail(f"{what} within {seconds} s; told so far: {told()}")


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rules = os.path.join(WORK, "alerts.json")
    with open(rules, "w") as handle:
        json.dump({"rules": [
            {"name": "errors", "when": "server_error_rate", "above": 0.2, "min_calls": 5, "window": "3s", "for": "2s"},
            {"name": "slow", "when": "latency", "percentile": 95, "above": "200ms", "window": "3s",
             "scope": {"route": "/slow", "method": "GET"}},
            {"name": "quiet", "when": "traffic", "below": 1, "window": "4s"},
            {"name": "new errors", "when": "new_server_error_group", "window": "60s"},
        ]}, handle)
    env = {"APIMETRICS_STORE": os.path.join(WORK, "apimetrics.sqlite"), "APIMETRICS_METRICS_INTERVAL_S": "1",
           "APIMETRICS_ALERTS": rules, "APIMETRICS_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook",
           "APIMETRICS_ALERT_WEBHOOK_SECRET": SECRET}
    process, port, _, _ = start_demo(DEMO, env, WORK, "demo-1", TOOL)
    try:
        for _ in range(3):
            call(port, "GET", "/orders/1")
        started = time.time()
        for _ in range(4):
            for _ in range(6):
                call(port, "GET", "/fail")
            call(port, "GET", "/slow?ms=300")
            time.sleep(0.5)
        fired = wait_for(lambda: ("firing", "errors") in told(), 10, "the error rule firing")
        # Its `for` (2 s) plus one window (1 s) after the failures began, with a second's slack for the delivery.
        # (+ a window for the first evaluation to see the failures, and the delivery)
        if fired - started > 2 + 1 + 2:
            fail(f"the error rule fired {fired - started:.1f} s after the failures began")
        wait_for(lambda: ("firing", "slow") in told() and ("firing", "new errors") in told(), 10, "the latency and new-error rules firing")
        log(f"/fail fired the error rule {fired - started:.1f} s after the failures began (for 2 s + a 1 s window); "
            "a slow route the latency rule; the failures a new error group")
    finally:
        process.terminate()
        process.wait(timeout=30)
    # A restart while the failures go on: what fires is not told again.
    process, port, _, _ = start_demo(DEMO, env, WORK, "demo-2", TOOL)
    try:
        for _ in range(6):
            for _ in range(6):
                call(port, "GET", "/fail")
            time.sleep(0.5)
        if told("errors") != [("firing", "errors")] or told("new errors") != [("firing", "new errors")]:
            fail(f"after the restart: {told()}")
        log("the demo restarted while failing: nothing was told again")
        deadline = time.time() + 15
        while ("resolved", "errors") not in told() and time.time() < deadline:
            for _ in range(10):
                call(port, "GET", "/orders/1")
            time.sleep(0.3)
        wait_for(lambda: ("resolved", "errors") in told(), 5, "the error rule resolving")
        log("the failures stopped: the error rule resolved")
        # Silence: no call for longer than the quiet rule's window.
        wait_for(lambda: ("firing", "quiet") in told(), 12, "the silence rule firing")
        call(port, "GET", "/orders/1")
        wait_for(lambda: ("resolved", "quiet") in told(), 6, "the silence rule resolving")
        log("traffic stopped: the silence rule fired; a call resolved it")
    finally:
        process.terminate()
        process.wait(timeout=30)
    with LOCK:
        unverified = [r["message"] for r in RECEIVED if not r["verified"]]
    if unverified:
        fail(f"messages whose signature the secret does not verify: {unverified}")
    for rule in ("errors", "slow", "quiet", "new errors"):
        states = [state for state, _ in told(rule)]
        if states.count("firing") != 1 or states.count("resolved") > 1:
            fail(f"{rule}: told {states}, expected one firing and at most one resolved")
    log(f"{len(RECEIVED)} messages, each verified with the secret (HMAC-SHA256 over timestamp.body); one firing per alert")
    log("passed")


main()
