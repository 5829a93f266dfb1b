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
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "vendors"))

import standin  # noqa: E402
from demo_process import call as call_demo, exchange_raw, start_demo  # noqa: E402

DEMO = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apimetrics-vendors-")
MOESIF_APP = "eyJhcHAiOiIzNjU6MTIiLCJ2ZXIiOiIyLjEifQ.e2e"
README_KEY = "rdme_e2e0123456789"
APITALLY_CLIENT = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
MONOSCOPE_KEY = "mono-e2e-key"
SECRET = "hunter2-e2e"
# Orders fetched by acme: more than one request to any vendor holds.
MANY = 70
failures = []


def log(message):
    print(f"vendor_check: {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)


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
        call("GET", f"/orders/{n % 100 + 1}", acme, consumer="acme")
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
    call("GET", "/orders/2", dict(acme, **{"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}), consumer="acme", client="203.0.113.7")
    call("GET", "/orders/3", dict(acme, **{"Forwarded": 'for="[2001:db8:cafe::17]:4711";proto=https'}), consumer="acme",
         client="2001:db8:cafe::17")
    # The same header from a peer that is not trusted (127.0.0.2) changes nothing.
    head = (b"GET /orders/4 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: demo-key-acme\r\n"
            b"X-Forwarded-For: 198.51.100.66\r\nConnection: close\r\n\r\n")
    answer = exchange_raw(port, head, source="127.0.0.2")
    check(answer.startswith(b"HTTP/1.1 200"), f"GET /orders/4 from 127.0.0.2: {answer[:40]!r}")
    sent.append(("GET", "/orders/4", 200, "acme", "127.0.0.2"))
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
        "APIMETRICS_VERSION": "2.0.0", "HOME": WORK,
    }, WORK, "demo", "vendor_check")
    sent = traffic(port)
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)
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


def check_moesif(received, events, sent):
    posts = [r for r in received if r["method"] == "POST"]
    batches = [body_json(r) for r in posts if r["target"] == "/v1/events/batch"]
    moesif_events = [e for batch in batches for e in batch]
    wanted = multiset((e["request"]["method"], e["request"]["path"], (e.get("response") or {}).get("status")) for e in events)
    got = multiset((e["request"]["verb"], "/" + e["request"]["uri"].split("://", 1)[1].split("/", 1)[1].split("?")[0],
                    (e.get("response") or {}).get("status")) for e in moesif_events)
    check(got == wanted, f"moesif: every call once: missing {wanted - got}, extra {got - wanted}")
    ids = [e.get("transaction_id") for e in moesif_events]
    check(len(set(ids)) == len(ids), "moesif: transaction ids are unique")
    clients = {(m, p, c) for m, p, _, _, c in sent}
    for event in moesif_events:
        path = "/" + event["request"]["uri"].split("://", 1)[1].split("/", 1)[1].split("?")[0]
        wanted_clients = {c for m, p, c in clients if m == event["request"]["verb"] and p == path}
        if len(wanted_clients) == 1:
            check(event["request"].get("ip_address") in wanted_clients,
                  f"moesif: {path} ip_address {event['request'].get('ip_address')}, wanted {wanted_clients}")
    zipped = [e for e in moesif_events if e["request"]["verb"] == "POST" and "/echo" in e["request"]["uri"]
              and isinstance(e["request"].get("body"), dict) and e["request"]["body"].get("zipped")]
    check(len(zipped) == 1, "moesif: the gzip'd request body sent decompressed, as JSON")
    subscriptions = [s for r in posts if r["target"] == "/v1/subscriptions/batch" for s in body_json(r)]
    check(any(any(item.get("plan_id") == "pro" for item in s.get("items", [])) and s.get("status") == "active"
              for s in subscriptions), f"moesif: the subscription with its plan: {subscriptions}")
    companies = [c for r in posts if r["target"] == "/v1/companies/batch" for c in body_json(r)]
    check(any(c.get("company_id") == "acme-co" for c in companies), f"moesif: the company: {companies}")
    users = [u for r in posts if r["target"] == "/v1/users/batch" for u in body_json(r)]
    check(any(u.get("user_id") == "acme" and u.get("company_id") == "acme-co" for u in users), f"moesif: the user: {users}")
    return len(moesif_events)


def check_readme(received, events, sent):
    posts = [body_json(r) for r in received if r["method"] == "POST" and r["target"] == "/v1/request"]
    check(len(posts) > 1 and all(1 <= len(p) <= 30 for p in posts), f"readme: 1-30 logs a request: {[len(p) for p in posts]}")
    logs = [entry for p in posts for entry in p]
    with_consumer = [e for e in events if e.get("consumer")]
    check(len(logs) == len(with_consumer), f"readme: a log per call with a consumer ({len(with_consumer)}), got {len(logs)}")
    texts = [e["request"]["log"]["entries"][0]["request"].get("postData", {}).get("text") for e in logs]
    check("[NOT VALID UTF-8]" in texts, "readme: the non-UTF-8 body as [NOT VALID UTF-8]")
    return len(logs)


def check_apitally(received, events, sent):
    base = f"/v2/{APITALLY_CLIENT}/e2e"
    syncs = [body_json(r) for r in received if r["target"] == f"{base}/sync"]
    rows = [row for sync in syncs for row in sync.get("requests", [])]
    paths = {row["path"] for row in rows}
    check(not any(p in paths for p in ("/wp-login.php", "/.env", "/admin/config.php")), f"apitally: no 404 scans counted: {sorted(paths)}")
    check(any(row["path"] == "/drop" and row["status_code"] == 500 for row in rows), f"apitally: /drop counted as 500: {rows}")
    check(not any(row["status_code"] == 0 for row in rows), "apitally: no status 0")
    return len(rows)


def check_monoscope(received, events, sent):
    paths = collections.Counter(r["target"] for r in received)
    for signal_path in ("/v1/traces", "/v1/logs", "/v1/metrics"):
        check(paths[signal_path] > 0, f"monoscope: {signal_path} received: {dict(paths)}")
    return paths["/v1/traces"]


def main():
    stands = {name: standin.start(name) for name in ("moesif", "readme", "apitally", "monoscope")}
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
            check(SECRET.encode() not in r["raw"] and SECRET.encode() not in (r["body"] or b""),
                  f"{name} {r['target']}: a redacted secret reached the vendor")
    for requests in received.values():
        for r in requests:
            r["body"] = r["body"] or b""
    events = [json.loads(line) for line in open(os.path.join(WORK, "events.ndjson"))]
    events = [e for e in events if e.get("request")]
    check(len(events) == len(sent) - 1, f"the file kept every call but /health ({len(sent) - 1}), got {len(events)}")
    counts = {
        "moesif": check_moesif(received["moesif"], events, sent),
        "readme": check_readme(received["readme"], events, sent),
        "apitally": check_apitally(received["apitally"], events, sent),
        "monoscope": check_monoscope(received["monoscope"], events, sent),
    }
    if failures:
        for failure in failures:
            log("FAIL " + failure)
        sys.exit(1)
    log(f"{len(sent)} calls; requests taken: " + ", ".join(f"{n} {len(received[n])}" for n in received)
        + "; " + ", ".join(f"{n} {c}" for n, c in counts.items()) + "; 0 refusals, no secret sent")


main()
