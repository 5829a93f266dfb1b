#!/usr/bin/env python3
"""The demo sending to strict stand-ins of Moesif, ReadMe Metrics, Apitally
and Monoscope (Tests/EndToEnd/vendors/), turned on by their environment
variables, beside its file.

usage: vendor_check.py DEMO_BINARY

Each stand-in checks every request the way its vendor does (schemas
written from the vendor's docs and SDK models, checked by jsonschema;
Monoscope's OTLP decoded by opentelemetry-proto) and refuses what the
vendor would refuse. Mixed traffic goes through the demo: JSON, binary,
gzip'd and non-UTF-8 bodies, OPTIONS, 404 scans, a handler that fails and
one that drops the connection with no answer, forwarded headers from a
trusted and an untrusted peer, more calls than one request to a vendor
holds, a subscription with a plan. The check: no stand-in refused
anything, every call is where the vendor's own rules put it (compared
with the file's copy of every call), the client address is the one the
forwarding rules give, and no secret the demo's redaction hides reached
any vendor.
"""
import base64
import collections
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
from demo_process import call as call_demo, exchange_raw, start_demo  # noqa: E402

DEMO = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apimetrics-vendors-")
MOESIF_APP = "eyJhcHAiOiIzNjU6MTIiLCJ2ZXIiOiIyLjEifQ.e2e"
README_KEY = "rdme_e2e0123456789"
APITALLY_CLIENT = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
MONOSCOPE_KEY = "mono-e2e-key"
SECRET = "hunter2-e2e"
# Orders fetched by acme: more than one request to any vendor holds.
MANY = 210
failures = []


def log(message):
    print(f"vendor_check: {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)


class Stand:
    """A stand-in in a process of its own (`standin.py VENDOR`), as the
    Swift tests run them: each checks at its own pace, on its own core."""

    def __init__(self, vendor):
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "vendors", "standin.py"), vendor],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{json.loads(self.process.stdout.readline())['port']}"

    def received(self):
        with urllib.request.urlopen(self.url + "/_standin/received", timeout=60) as answer:
            listed = json.load(answer)
        for entry in listed:
            entry["body"] = base64.b64decode(entry["body"])
        return listed

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def traffic(port):
    """The mixed calls; returns what each should look like at the vendors:
    (method, path, status or None, consumer or None, client address)."""
    sent = []

    def call(method, path, headers=None, body=None, consumer=None, client="127.0.0.1"):
        status = call_demo(port, method, path, headers, body)
        sent.append((method, path.split("?")[0], status, consumer, client))
        return status

    acme = {"X-API-Key": "demo-key-acme"}
    check(call("PUT", "/account/plan", dict(acme, **{"Content-Type": "application/json"}),
               json.dumps({"plan": "pro", "status": "active"}).encode(), "acme") == 200, "PUT /account/plan")
    for n in range(MANY):
        call("GET", f"/orders/{n % 90 + 1}", acme, consumer="acme")
    posted = json.dumps({"item": "lamp", "quantity": 2, "password": SECRET}).encode()
    check(call("POST", "/orders?page=1&token=" + SECRET,
               dict(acme, **{"Content-Type": "application/json", "Authorization": "Bearer " + SECRET}), posted, "acme") == 201,
          "POST /orders")
    check(call("POST", "/orders", dict(acme, **{"Content-Type": "application/json"}),
               json.dumps({"item": "lamp", "quantity": 5000}).encode(), "acme") == 422, "POST /orders (422)")
    binary = bytes(range(256)) * 4
    check(call("POST", "/echo", dict(acme, **{"Content-Type": "application/octet-stream"}), binary, "acme") == 200, "binary echo")
    zipped = gzip.compress(json.dumps({"zipped": True, "n": 1}).encode())
    check(call("POST", "/echo", dict(acme, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}), zipped, "acme") == 200,
          "gzip'd echo")
    latin = "caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1")
    check(call("POST", "/echo", dict(acme, **{"Content-Type": "text/plain; charset=iso-8859-1"}), latin, "acme") == 200,
          "non-UTF-8 echo")
    call("OPTIONS", "/orders", acme, consumer="acme")
    for scan in ("/wp-login.php", "/.env", "/admin/config.php"):
        check(call("GET", scan) == 404, f"scan {scan}")
    check(call("GET", "/fail", {"X-API-Key": "demo-key-globex"}, consumer="globex") == 500, "GET /fail")
    call("GET", "/orders/1")
    call("GET", "/orders", {"X-API-Key": "demo-key-acme", "User-Agent": "kube-probe/1.29"}, consumer="acme")
    check(call("GET", "/health") == 200, "GET /health")
    # Forwarded by a trusted proxy (this peer, 127.0.0.1, and 10.0.0.0/8 are trusted).
    call("GET", "/orders/97", dict(acme, **{"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}), consumer="acme", client="203.0.113.7")
    call("GET", "/orders/98", dict(acme, **{"Forwarded": 'for="[2001:db8:cafe::17]:4711";proto=https'}), consumer="acme",
         client="2001:db8:cafe::17")
    # The same header from a peer that is not trusted (127.0.0.2) changes nothing.
    head = (b"GET /orders/99 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: demo-key-acme\r\n"
            b"X-Forwarded-For: 198.51.100.66\r\nConnection: close\r\n\r\n")
    answer = exchange_raw(port, head, source="127.0.0.2")
    check(answer.startswith(b"HTTP/1.1 200"), f"GET /orders/99 from 127.0.0.2: {answer[:40]!r}")
    sent.append(("GET", "/orders/99", 200, "acme", "127.0.0.2"))
    # A handler that drops the connection: no response at all.
    dropped = exchange_raw(port, b"GET /drop HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: demo-key-acme\r\nConnection: close\r\n\r\n")
    check(dropped == b"", f"GET /drop answered {dropped[:40]!r}")
    sent.append(("GET", "/drop", None, "acme", "127.0.0.1"))
    return sent


def run_demo(stands):
    process, port, out, err = start_demo(DEMO, {
        "APIMETRICS_MOESIF_APPLICATION_ID": MOESIF_APP, "APIMETRICS_MOESIF_BASE_URL": stands["moesif"].url,
        "APIMETRICS_README_API_KEY": README_KEY, "APIMETRICS_README_BASE_URL": stands["readme"].url,
        "APIMETRICS_APITALLY_CLIENT_ID": APITALLY_CLIENT, "APIMETRICS_APITALLY_BASE_URL": stands["apitally"].url,
        "APIMETRICS_ENV": "e2e", "APIMETRICS_APITALLY_REQUEST_LOGGING": "true",
        "APIMETRICS_MONOSCOPE_API_KEY": MONOSCOPE_KEY, "APIMETRICS_MONOSCOPE_ENDPOINT": stands["monoscope"].url,
        "APIMETRICS_TAGS": "e2e,demo", "APIMETRICS_TRUSTED_PROXIES": "127.0.0.1/32,10.0.0.0/8",
        "APIMETRICS_FILE": os.path.join(WORK, "events.ndjson"), "APIMETRICS_LOG_BODY": "true",
        "APIMETRICS_VERSION": "2.0.0", "HOME": WORK, "APIMETRICS_DEBUG": "true",
        # The stand-ins check every field with jsonschema, far slower than a vendor answers.
        "APIMETRICS_SHUTDOWN_TIMEOUT_MS": "120000",
    }, WORK, "demo", "vendor_check")
    sent = traffic(port)
    # Every call reaches each vendor before the demo is stopped: the sender
    # gives each exporter its batch in turn, and the stand-ins are slow.
    deadline = time.time() + 120
    while time.time() < deadline:
        monoscope = [r["target"] for r in stands["monoscope"].received()]
        if "/v1/traces" in monoscope and "/v1/logs" in monoscope:
            break
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=180)
    err.seek(0)
    stopped = err.read()
    check(status == 0, f"demo exited with {status}: {stopped}")
    out.seek(0)
    return sent, out.read(), stopped


def body_json(entry):
    try:
        return json.loads(entry["body"])
    except ValueError:
        return None


def multiset(items):
    return collections.Counter(items)


FORWARDED = {"/orders/97": "203.0.113.7", "/orders/98": "2001:db8:cafe::17", "/orders/99": "127.0.0.2"}


def readme_mask(value):
    import hashlib
    return "sha512-" + base64.b64encode(hashlib.sha512(value.encode()).digest()).decode() + "?" + value[-4:]


def url_path(url):
    rest = url.split("://", 1)[1]
    return "/" + (rest.split("/", 1)[1] if "/" in rest else "").split("?")[0]


def moesif_path(event):
    return url_path(event["request"]["uri"])


def check_moesif(received, events, sent):
    posts = [r for r in received if r["method"] == "POST"]
    batches = [body_json(r) for r in posts if r["target"] == "/v1/events/batch"]
    check(len(batches) > 1 and all(1 <= len(b) <= 200 for b in batches), f"moesif: 1-200 events a request: {[len(b) for b in batches]}")
    moesif_events = [e for batch in batches for e in batch]
    wanted = multiset((e["request"]["method"], e["request"]["path"], (e.get("response") or {}).get("status")) for e in events)
    got = multiset((e["request"]["verb"], moesif_path(e), (e.get("response") or {}).get("status")) for e in moesif_events)
    check(got == wanted, f"moesif: every call once: missing {wanted - got}, extra {got - wanted}")
    ids = [e.get("transaction_id") for e in moesif_events]
    check(len(set(ids)) == len(ids), "moesif: transaction ids are unique")
    for event in moesif_events:
        path = moesif_path(event)
        wanted_ip = FORWARDED.get(path, "127.0.0.1")
        check(event["request"].get("ip_address") == wanted_ip, f"moesif: {path} ip_address {event['request'].get('ip_address')}, wanted {wanted_ip}")
    echoes = [e for e in moesif_events if moesif_path(e) == "/echo"]
    zipped = [e for e in echoes if isinstance(e["request"].get("body"), dict) and e["request"]["body"].get("zipped")]
    check(len(zipped) == 1 and zipped[0]["request"].get("transfer_encoding") == "json",
          "moesif: the gzip'd request body sent decompressed, as JSON")
    subscriptions = [s for r in posts if r["target"] == "/v1/subscriptions/batch" for s in body_json(r)]
    check(any(any(item.get("plan_id") == "pro" for item in s.get("items", [])) and s.get("status") == "active"
              for s in subscriptions), f"moesif: the subscription with its plan: {subscriptions}")
    companies = [c for r in posts if r["target"] == "/v1/companies/batch" for c in body_json(r)]
    check(any(c.get("company_id") == "acme-co" for c in companies), f"moesif: the company: {companies}")
    users = [u for r in posts if r["target"] == "/v1/users/batch" for u in body_json(r)]
    check(any(u.get("user_id") == "acme" and u.get("company_id") == "acme-co" for u in users), f"moesif: the user: {users}")
    created = [e for e in moesif_events if e["request"]["verb"] == "POST" and moesif_path(e) == "/orders"
               and (e.get("response") or {}).get("status") == 201]
    check(len(created) == 1 and created[0]["request"]["body"].get("password") == "[REDACTED]"
          and created[0]["request"]["headers"].get("Authorization") == "[REDACTED]", "moesif: the POST, redacted")
    return len(moesif_events)


def check_readme(received, events, sent):
    posts = [body_json(r) for r in received if r["method"] == "POST" and r["target"] == "/v1/request"]
    check(len(posts) > 1 and all(1 <= len(p) <= 30 for p in posts), f"readme: 1-30 logs a request: {[len(p) for p in posts]}")
    logs = [entry for p in posts for entry in p]
    # ReadMe groups every log by its consumer and its SDKs never log preflights.
    wanted = multiset((e["request"]["method"], e["request"]["path"], (e.get("response") or {}).get("status") or 500)
                      for e in events if e.get("consumer") and e["request"]["method"] != "OPTIONS")
    entries = [(log, log["request"]["log"]["entries"][0]) for log in logs]
    got = multiset((entry["request"]["method"], url_path(entry["request"]["url"]), entry["response"]["status"]) for _, entry in entries)
    check(got == wanted, f"readme: a log per call with a consumer, no OPTIONS: missing {wanted - got}, extra {got - wanted}")
    texts = [entry["request"].get("postData", {}).get("text") for _, entry in entries]
    check("[NOT VALID UTF-8]" in texts, "readme: the non-UTF-8 body as [NOT VALID UTF-8]")
    acme = [log["group"] for log, _ in entries if log["group"].get("label") == "acme"]
    check(acme and all(g["id"] == readme_mask("demo-key-acme") for g in acme), f"readme: acme's group id is its key's mask: {acme[:1]}")
    for log, entry in entries:
        path = url_path(entry["request"]["url"])
        check(log["clientIPAddress"] == FORWARDED.get(path, "127.0.0.1"), f"readme: {path} clientIPAddress {log['clientIPAddress']}")
    return len(logs)


def check_apitally(received, events, sent):
    base = f"/v2/{APITALLY_CLIENT}/e2e"
    targets = [r["target"].split("?")[0] for r in received]
    check(targets.count(f"{base}/startup") == 1 and f"{base}/sync" in targets and f"{base}/log" in targets,
          f"apitally: startup once, syncs and log uploads: {collections.Counter(targets)}")
    syncs = [body_json(r) for r in received if r["target"] == f"{base}/sync"]
    rows = [row for sync in syncs for row in sync.get("requests", [])]
    # Counted: calls with a route template, OPTIONS left out, no response a 500.
    wanted = collections.Counter()
    for e in events:
        route = e["request"].get("route")
        if route and e["request"]["method"] != "OPTIONS":
            wanted[((e.get("consumer") or {}).get("id"), e["request"]["method"], route,
                    (e.get("response") or {}).get("status") or 500)] += 1
    got = collections.Counter()
    for row in rows:
        got[(row["consumer"], row["method"], row["path"], row["status_code"])] += row["request_count"]
    check(got == wanted, f"apitally: counts by consumer, method, route, status: missing {wanted - got}, extra {got - wanted}")
    errors = [e for sync in syncs for e in sync.get("server_errors", [])]
    check(any(e["path"] == "/fail" and e["consumer"] == "globex" for e in errors), f"apitally: /fail's server error: {errors}")
    lines = []
    for r in received:
        if r["target"].startswith(f"{base}/log?uuid="):
            data = r["body"]
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
            lines += [json.loads(line) for line in data.splitlines() if line.strip()]
    logged = collections.Counter((l["request"]["method"], url_path(l["request"]["url"])) for l in lines)
    check(lines and not any(l["request"].get("headers") for l in lines), "apitally: the request log has no request headers")
    check(("GET", "/orders") not in logged, f"apitally: the probe's call is not logged: {logged}")
    check(not any(m == "OPTIONS" for m, _ in logged), "apitally: OPTIONS not logged")
    return sum(got.values())


def otlp_messages(received, path, message_type):
    messages = []
    for r in received:
        if r["target"] == path:
            message = message_type()
            message.ParseFromString(r["body"])
            messages.append(message)
    return messages


def otlp_attributes(items):
    out = {}
    for kv in items:
        kind = kv.value.WhichOneof("value")
        value = getattr(kv.value, kind) if kind else None
        if kind == "array_value":
            value = [v.string_value for v in kv.value.array_value.values]
        out[kv.key] = value
    return out


def check_monoscope(received, events, sent):
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    for r in received:
        check(r["headers"].get("x-api-key") == MONOSCOPE_KEY, f"monoscope {r['target']}: x-api-key {r['headers'].get('x-api-key')}")
    traces = otlp_messages(received, "/v1/traces", ExportTraceServiceRequest)
    logs = otlp_messages(received, "/v1/logs", ExportLogsServiceRequest)
    metrics = otlp_messages(received, "/v1/metrics", ExportMetricsServiceRequest)
    check(traces and logs and metrics, f"monoscope: traces, logs and metrics: {len(traces)} {len(logs)} {len(metrics)}")
    resources = [rs.resource for m in traces for rs in m.resource_spans] + [rl.resource for m in logs for rl in m.resource_logs]
    check(all(otlp_attributes(r.attributes).get("at-project-key") == MONOSCOPE_KEY for r in resources),
          "monoscope: the key as every resource's at-project-key")
    spans = [s for m in traces for rs in m.resource_spans for ss in rs.scope_spans for s in ss.spans]
    records = [l for m in logs for rl in m.resource_logs for sl in rl.scope_logs for l in sl.log_records]
    check(len(spans) == len(events) and len(records) == len(events),
          f"monoscope: a span and a log record per call ({len(events)}): {len(spans)} spans, {len(records)} records")
    ids = {e["id"].replace("-", "") for e in events}
    msg_ids = {otlp_attributes(s.attributes).get("apitoolkit.msg_id", "").replace("-", "") for s in spans}
    check(len(msg_ids & ids) == len(events) or len(msg_ids) == len(events), "monoscope: every call's msg_id once")
    for span in spans:
        a = otlp_attributes(span.attributes)
        path = a.get("url.path", "")
        if path in FORWARDED:
            check(a.get("client.address") == FORWARDED[path], f"monoscope: {path} client.address {a.get('client.address')}")
            peer = "127.0.0.2" if path == "/orders/99" else "127.0.0.1"
            check(a.get("network.peer.address") == peer, f"monoscope: {path} network.peer.address {a.get('network.peer.address')}")
    failed = [s for s in spans if otlp_attributes(s.attributes).get("url.path") == "/fail"]
    stacktraces = [otlp_attributes(e.attributes).get("exception.stacktrace") or "" for s in failed for e in s.events]
    check(any(":" in t.splitlines()[-1] for t in stacktraces if t), f"monoscope: /fail's exception.stacktrace ends with its place: {stacktraces}")
    return len(spans)


def main():
    stands = {name: Stand(name) for name in ("moesif", "readme", "apitally", "monoscope")}
    sent, started, stopped = run_demo(stands)
    check("moesif" in started, "the demo's startup lines name the Moesif exporter")
    received = {name: stand.received() for name, stand in stands.items()}
    for stand in stands.values():
        stand.stop()
    for name, requests in received.items():
        for method, target, reason in [(r["method"], r["target"], r["refusal"]) for r in requests if r["refusal"]]:
            check(False, f"{name} refused {method} {target}: {reason}")
        check(requests and all(200 <= r["status"] < 300 for r in requests),
              f"{name}: every request taken, statuses {collections.Counter(r['status'] for r in requests)}")
        for r in requests:
            check(SECRET.encode() not in r["body"],
                  f"{name} {r['target']}: a redacted secret reached the vendor")
    events = [json.loads(line) for line in open(os.path.join(WORK, "events.ndjson"))]
    events = [e for e in events if e.get("request")]
    recorded = multiset((e["request"]["method"], e["request"]["path"]) for e in events)
    # The default event filter leaves out health checks and probes (the kube-probe's GET /orders).
    calls = multiset((m, p) for m, p, *_ in sent if p != "/health" and (m, p) != ("GET", "/orders"))
    check(recorded == calls, f"the file kept every call but /health and the probe's: missing {calls - recorded}, extra {recorded - calls}")
    counts = {
        "moesif": check_moesif(received["moesif"], events, sent),
        "readme": check_readme(received["readme"], events, sent),
        "apitally": check_apitally(received["apitally"], events, sent),
        "monoscope": check_monoscope(received["monoscope"], events, sent),
    }
    if failures:
        for failure in failures:
            log("FAIL " + failure)
        log(f"the demo's output and events are in {WORK}")
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    log(f"{len(sent)} calls; requests taken: " + ", ".join(f"{n} {len(received[n])}" for n in received)
        + "; " + ", ".join(f"{n} {c}" for n, c in counts.items()) + "; 0 refusals, no secret sent")


main()
