"""The demo's metrics against real peers.

1. Mixed traffic with known counts; the demo's /metrics parses with
   prometheus_client's own text parser and its histograms count what was sent.
2. A real Prometheus server scrapes the demo; PromQL over the scraped series
   returns the same counts.
3. Headless Chromium renders the dashboard with no console errors and shows the
   demo's routes and consumers; a screenshot is taken while the demo is under load.
4. The file's metrics windows add up to the calls served.

5. `apimetrics report` prints the same total from the file.

Usage: metrics_check.py PATH-TO-apimetrics-demo PATH-TO-apimetrics
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

DEMO = sys.argv[1]
REPORT = sys.argv[2]
WORK = tempfile.mkdtemp(prefix="apimetrics-metrics-")
# Alert rules the demo evaluates itself and, through `apimetrics alerts --prometheus`,
# a real Prometheus over the same traffic: its three 500s of 70 calls are above 2%; calls to /slow
# of 300 ms are above 200 ms at p95, and their stopping is quiet; the orders' route, written with
# `:id` where the series say `{id}`, is matched (a floor of a million calls fires once it has any).
RULES = os.path.join(WORK, "alerts.json")
with open(RULES, "w") as rules_file:
    json.dump({"rules": [
        {"name": "errors above 2%", "when": "server_error_rate", "above": 0.02, "min_calls": 20, "window": "5m"},
        {"name": "orders p95 above 2s", "when": "latency", "percentile": 95, "above": "2s", "window": "5m",
         "scope": {"route": "/orders/{id}", "method": "GET"}},
        {"name": "new errors", "when": "new_server_error_group"},
        {"name": "slow above 200ms", "when": "latency", "percentile": 95, "above": "200ms", "window": "1m",
         "scope": {"route": "/slow", "method": "GET"}},
        {"name": "slow quiet", "when": "traffic", "below": 1, "window": "10s", "scope": {"route": "/slow"}},
        {"name": "orders under a million", "when": "traffic", "below": 1000000, "window": "20s",
         "scope": {"route": "/orders/:id", "method": "GET"}},
    ]}, rules_file)


def log(message):
    print(f"metrics_check: {message}", flush=True)


def fail(message):
    log(f"FAILED: {message}")
    sys.exit(1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(base, method, path, headers=None, body=None):
    req = urllib.request.Request(base + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_demo():
    out = open(os.path.join(WORK, "demo.out"), "w+")
    err = open(os.path.join(WORK, "demo.err"), "w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APIMETRICS_")}
    # No store: the dashboard checked here is the static page served without
    # one (the app over the store is dashboard-check.sh's).
    env.update({"APIMETRICS_FILE": os.path.join(WORK, "events.ndjson"), "APIMETRICS_METRICS_INTERVAL_S": "2",
                "APIMETRICS_STORE": "off", "APIMETRICS_ALERTS": RULES, "APIMETRICS_DEBUG": "true"})
    process = subprocess.Popen([DEMO, "--port", "0"], stdout=out, stderr=err, env=env, cwd=WORK)
    deadline = time.time() + 30
    while time.time() < deadline:
        out.seek(0)
        text = out.read()
        if "prometheus: http://" in text:
            base = text.split("listening on ")[1].split()[0]
            return process, base, text, err
        if process.poll() is not None:
            err.seek(0)
            fail(f"demo exited early: {err.read()}")
        time.sleep(0.05)
    fail("demo did not start")


# What is sent, per (method, route, status).
TRAFFIC = [
    ("GET", "/orders/{id}", 200, 40, lambda n: ("GET", "/orders/1", {"X-API-Key": "demo-key-acme"} if n % 2 else {"X-API-Key": "demo-key-globex"}, None)),
    ("GET", "/orders/{id}", 404, 10, lambda n: ("GET", f"/orders/{9000 + n}", {}, None)),
    ("POST", "/orders", 201, 6, lambda n: ("POST", "/orders", {"Content-Type": "application/json", "X-API-Key": "demo-key-acme"}, b'{"item":"lamp","quantity":2}')),
    ("POST", "/orders", 422, 4, lambda n: ("POST", "/orders", {"Content-Type": "application/json", "X-API-Key": "demo-key-globex"}, b'{"item":"lamp","quantity":0}')),
    ("GET", "/fail", 500, 3, lambda n: ("GET", "/fail", {}, None)),
    ("GET", "(unmatched)", 404, 7, lambda n: ("GET", f"/nope/{n}", {}, None)),
]


def send_traffic(base):
    for method, route, status, count, make in TRAFFIC:
        for n in range(count):
            verb, path, headers, body = make(n)
            got, _ = request(base, verb, path, headers, body)
            if got != status:
                fail(f"{verb} {path} answered {got}, expected {status}")


def check_exposition(base):
    status, body = request(base, "GET", "/metrics")
    if status != 200:
        fail(f"/metrics answered {status}")
    text = body.decode()
    counts = {}
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for sample in family.samples:
            if sample.name == "http_server_request_duration_seconds_count":
                labels = sample.labels
                counts[(labels["method"], labels["route"], int(labels["status"]))] = sample.value
            if sample.name.endswith("_bucket") and sample.labels.get("le") == "+Inf":
                count_name = sample.name[:-len("_bucket")] + "_count"
                matching = [s for s in family.samples if s.name == count_name and
                            {k: v for k, v in s.labels.items()} == {k: v for k, v in sample.labels.items() if k != "le"}]
                if not matching or matching[0].value != sample.value:
                    fail(f"{sample.name}{sample.labels}: +Inf bucket is not the count")
    for name, kind in [("http_server_request_duration_seconds", "histogram"),
                       ("http_server_request_body_size_bytes", "histogram"),
                       ("http_server_response_body_size_bytes", "histogram"),
                       ("apimetrics_events_dropped", "counter"), ("apimetrics_events_queued", "gauge")]:
        if families.get(name) != kind:
            fail(f"{name} is {families.get(name)}, expected {kind}")
    for method, route, status, count, _ in TRAFFIC:
        if counts.get((method, route, status)) != count:
            fail(f"/metrics counts {counts.get((method, route, status))} for {method} {route} {status}, sent {count}")
    log(f"exposition: {len(families)} families parsed by prometheus_client; every series counts what was sent")


def check_api(base):
    # Consumers and validation errors come from processed events: the
    # sender gets to them within a flush interval or two.
    deadline = time.time() + 20
    while True:
        status, body = request(base, "GET", "/_apimetrics/api")
        if status != 200:
            fail(f"/_apimetrics/api answered {status}")
        api = json.loads(body)
        groups = {(g["method"], g["route"], g["field"], g["type"]): g["count"] for g in api["validation_errors"]}
        consumers = {c["id"]: c["requests"] for c in api["consumers"]}
        if groups.get(("POST", "/orders", "quantity", "range")) == 4 and consumers.get("globex", 0) >= 24:
            break
        if time.time() > deadline:
            fail(f"/_apimetrics/api: validation errors {groups}, consumers {consumers}")
        time.sleep(0.2)
    endpoints = {(e["method"], e["route"]): e for e in api["endpoints"]}
    for (method, route), sent in [(("GET", "/orders/{id}"), 50), (("POST", "/orders"), 10), (("GET", "/fail"), 3)]:
        endpoint = endpoints.get((method, route))
        if not endpoint or endpoint["requests"] != sent or not endpoint["p50_ms"] <= endpoint["p95_ms"] <= endpoint["p99_ms"]:
            fail(f"/_apimetrics/api has {endpoint} for {method} {route}, sent {sent}")
    log("api: endpoints count what was sent; the demo's reported validation errors are grouped per route, field and type")


def check_prometheus(base):
    port = free_port()
    target = urllib.parse.urlparse(base).netloc
    config = os.path.join(WORK, "prometheus.yml")
    # The same rules as Prometheus rules, checked by promtool.
    rules = os.path.join(WORK, "rules.yml")
    written = subprocess.run([REPORT, "alerts", "--prometheus", RULES], capture_output=True, text=True)
    if written.returncode != 0 or "left out new errors" not in written.stderr:
        fail(f"apimetrics alerts --prometheus: exit {written.returncode}: {written.stderr}")
    with open(rules, "w") as file:
        file.write(written.stdout)
    checked = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    if checked.returncode != 0 or "SUCCESS: 5 rules found" not in checked.stdout:
        fail(f"promtool check rules: {checked.stdout}{checked.stderr}")
    log("apimetrics alerts --prometheus: five rules promtool accepts, the sixth (new error groups) named as left out")
    with open(config, "w") as file:
        file.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{rules}"]
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ["{target}"]
""")
    log_file = open(os.path.join(WORK, "prometheus.log"), "w")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={os.path.join(WORK, 'tsdb')}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log_file, stderr=subprocess.STDOUT)
    try:
        api = f"http://127.0.0.1:{port}/api/v1/query?query="
        query = urllib.parse.quote('sum by (method, route, status) (http_server_request_duration_seconds_count{job="demo"})')
        deadline = time.time() + 60
        results = {}
        while time.time() < deadline:
            time.sleep(1)
            try:
                status, body = request(f"http://127.0.0.1:{port}", "GET", "/api/v1/query?query=" + query)
            except OSError:
                continue
            if status != 200:
                continue
            data = json.loads(body)["data"]["result"]
            results = {(r["metric"]["method"], r["metric"]["route"], int(r["metric"]["status"])): float(r["value"][1]) for r in data}
            if all(results.get((m, r, s)) == c for m, r, s, c, _ in TRAFFIC):
                break
        else:
            fail(f"Prometheus's query gave {results}")
        status, body = request(f"http://127.0.0.1:{port}", "GET", "/api/v1/targets")
        health = [t["health"] for t in json.loads(body)["data"]["activeTargets"]]
        if health != ["up"]:
            fail(f"Prometheus sees the demo as {health}")
        log(f"prometheus: a real server scraped the demo; PromQL returned every count sent ({int(sum(results.values()))} calls)")
        # The error rule fires in Prometheus as it does in APIMetrics; the latency one in neither. Prometheus
        # reads increases between its scrapes: the same mix of calls again, now that it scrapes.
        for _ in range(3):
            for n in range(10):
                request(base, "GET", "/orders/1", {"X-API-Key": "demo-key-acme"})
            request(base, "GET", "/fail")
            time.sleep(1)
        def wait_firing(expected, seconds, what):
            firing = set()
            deadline = time.time() + seconds
            while time.time() < deadline:
                status, body = request(f"http://127.0.0.1:{port}", "GET", "/api/v1/alerts")
                firing = {a["labels"]["alertname"] for a in json.loads(body)["data"]["alerts"] if a["state"] == "firing"}
                if firing == expected:
                    return
                time.sleep(1)
            fail(f"Prometheus fires {firing}, expected {expected} ({what})")

        wait_firing({"ErrorsAbove2", "OrdersUnderAMillion"}, 30, "the error rate, and the orders' route matched")
        log("prometheus: the generated error-rate rule fires for the demo's traffic, the latency rule does not; "
            "the orders' route written with :id matches the series' {id}")
        # A slow route: 300 ms calls over a few scrapes.
        for _ in range(8):
            request(base, "GET", "/slow?ms=300")
            time.sleep(0.2)
        wait_firing({"ErrorsAbove2", "OrdersUnderAMillion", "SlowAbove200ms"}, 30, "the slow route's p95")
        log("prometheus: the latency rule fires for calls to /slow of 300 ms")
        wait_firing({"ErrorsAbove2", "OrdersUnderAMillion", "SlowAbove200ms", "SlowQuiet"}, 40, "the slow route gone quiet")
        log("prometheus: the traffic rule fires once /slow has had no call for its window")
        return 41
    finally:
        process.terminate()
        process.wait(timeout=30)


def chromium(*args):
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={os.path.join(WORK, 'chromium')}", *args],
        capture_output=True, text=True, timeout=120)


def check_dashboard(base, screenshot):
    result = chromium("--dump-dom", base + "/_apimetrics")
    dom = result.stdout
    for wanted in ["/orders/{id}", "/orders", "/fail", "(unmatched)", "acme", "globex", "quantity", "<svg"]:
        if wanted not in dom:
            fail(f"the rendered dashboard lacks {wanted!r}")
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    if console:
        fail(f"console messages while rendering the dashboard: {console}")
    # The screenshot, with the demo under load.
    stop = threading.Event()
    sent = [0]

    def load():
        while not stop.is_set():
            request(base, "GET", f"/orders/{sent[0] % 5 + 1}", {"X-API-Key": f"demo-key-{['acme', 'globex', 'initech'][sent[0] % 3]}"})
            if sent[0] % 17 == 0:
                request(base, "GET", "/fail")
            sent[0] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(5)
    path = os.path.join(WORK, "dashboard.png")
    result = chromium(f"--screenshot={path}", "--window-size=1280,1900", "--hide-scrollbars", base + "/_apimetrics")
    stop.set()
    for thread in threads:
        thread.join()
    if not os.path.exists(path) or os.path.getsize(path) < 10_000:
        fail(f"no screenshot: {result.stderr[-500:]}")
    if screenshot:
        shutil.copyfile(path, screenshot)
    log(f"dashboard: rendered by headless Chromium with no console message, routes and consumers shown; "
        f"screenshot under load ({sent[0]} calls meanwhile){' at ' + screenshot if screenshot else ''}")
    return sent[0]


def main():
    process, base, banner, err = start_demo()
    if "dashboard: " not in banner:
        fail(f"the demo did not print the dashboard's URL: {banner}")
    served = 0
    try:
        send_traffic(base)
        served += sum(t[3] for t in TRAFFIC)
        check_exposition(base)
        check_api(base)
        served += check_prometheus(base)
        served += check_dashboard(base, os.environ.get("APIMETRICS_SCREENSHOT"))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    # Every call the demo served, the view's own and the scrapes included,
    # is in the file's windows: the traffic above is a lower bound, and the
    # final window's pipeline says how many calls were recorded.
    err.seek(0)
    told = err.read()
    wanted = ["errors above 2%", "new errors", "slow above 200ms", "slow quiet", "orders under a million"]
    if any(f"alert firing: {name}" not in told for name in wanted) or "orders p95" in told:
        fail(f"the demo's own alerts: {[line for line in told.splitlines() if 'alert' in line]}")
    log("the demo fired the same rules itself (errors, the slow route, its silence, the orders' route), and a new error group; "
        "not the orders' latency rule")
    lines = [json.loads(line) for line in open(os.path.join(WORK, "events.ndjson")) if line.strip()]
    windows = [line for line in lines if line.get("kind") == "metrics"]
    if not windows or not windows[-1].get("final"):
        fail(f"the last metrics window in the file is not the final one: the last lines are {[line.get('kind') for line in lines[-4:]]}, "
             f"the last window ends {windows[-1].get('end') if windows else None}; the demo said: {told[-1500:]}")
    total = sum(window["requests"] for window in windows)
    recorded = [line for line in lines if line.get("kind") == "heartbeat"][-1]["pipeline"]["recorded"]
    if total < served or total != recorded:
        fail(f"the windows count {total} calls; {served} were sent, {recorded} recorded")
    printed = subprocess.run([REPORT, "report", os.path.join(WORK, "events.ndjson")], capture_output=True, text=True, timeout=60)
    first_line = printed.stdout.split("\n", 1)[0]
    plural = "" if len(windows) == 1 else "s"
    if printed.returncode != 0 or not first_line.startswith(f"{total} calls from the start to ") \
            or not first_line.endswith(f" in 1 NDJSON file ({len(windows)} metrics window{plural})"):
        fail(f"apimetrics report printed: {printed.stdout[:300]} {printed.stderr[:300]}")
    if "/orders/{id}" not in printed.stdout:
        fail(f"apimetrics report lacks /orders/{{id}}: {printed.stdout[:500]}")
    log(f"file: {len(windows)} windows add up to {total} calls, every one recorded ({served} sent by this check, the rest scrapes and page loads)")
    log("report: apimetrics report printed the same total")
    log("all metrics checks passed")


main()
