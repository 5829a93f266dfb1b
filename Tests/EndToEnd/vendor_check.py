#!/usr/bin/env python3
"""The demo sending to a Moesif ingest, a ReadMe Metrics ingest, an
Apitally hub and a Monoscope collector on loopback, turned on by their
environment variables, beside its file.

usage: vendor_check.py DEMO_BINARY HAR_SCHEMA

Checks what each vendor received against the calls sent through the demo:
paths, headers, authentication, compression; every Moesif event field and
the remote sampling configuration being read; every ReadMe log field, its
HAR entry against a HAR 1.2 JSON schema (jsonschema, from PyPI), the
consumer's mask computed with Python's own hashlib; Apitally's startup,
sync (counts and bins recomputed here from the file's events, as
Apitally's SDK bins them) and request log; Monoscope's OTLP spans,
decoded by opentelemetry-proto; and that no secret the demo's redaction
hides reached any vendor.
"""
import base64
import gzip
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
from demo_process import call as call_demo, start_demo
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

DEMO, SCHEMA = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="apimetrics-vendors-")
MOESIF_APP = "eyJhcHAiOiIzNjU6MTIiLCJ2ZXIiOiIyLjEifQ.e2e"
README_KEY = "rdme_e2e0123456789"
APITALLY_CLIENT = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
MONOSCOPE_KEY = "mono-e2e-key"
SECRET = "hunter2-e2e"
failures = []


def log(message):
    print(f"vendor_check: {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)


class Ingest:
    """Answers like Moesif (/v1/config, /v1/*/batch) and ReadMe (/v1/request); keeps every request."""

    def __init__(self):
        self.requests = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def answer(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with lock:
                    outer.requests.append(("GET", self.path, dict(self.headers), b"", b""))
                config = json.dumps({"sample_rate": 100, "user_sample_rate": {}, "company_sample_rate": {}, "regex_config": []})
                self.answer(200, config.encode(), [("Content-Type", "application/json"), ("X-Moesif-Config-ETag", "e2e-1")])

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                with lock:
                    outer.requests.append(("POST", self.path, dict(self.headers), raw, body))
                self.answer(202 if self.path == "/v1/request" else 201, b"", [("X-Moesif-Config-ETag", "e2e-1")])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run_demo(ingest):
    base = f"http://127.0.0.1:{ingest.port}"
    process, port, out, err = start_demo(DEMO, {
        "APIMETRICS_MOESIF_APPLICATION_ID": MOESIF_APP, "APIMETRICS_MOESIF_BASE_URL": base,
        "APIMETRICS_README_API_KEY": README_KEY, "APIMETRICS_README_BASE_URL": base,
        "APIMETRICS_APITALLY_CLIENT_ID": APITALLY_CLIENT, "APIMETRICS_APITALLY_BASE_URL": base, "APIMETRICS_ENV": "e2e",
        "APIMETRICS_APITALLY_REQUEST_LOGGING": "true",
        "APIMETRICS_MONOSCOPE_API_KEY": MONOSCOPE_KEY, "APIMETRICS_MONOSCOPE_ENDPOINT": base, "APIMETRICS_TAGS": "e2e,demo",
        "APIMETRICS_FILE": os.path.join(WORK, "events.ndjson"), "APIMETRICS_LOG_BODY": "true",
        "APIMETRICS_VERSION": "2.0.0",
    }, WORK, "demo", "vendor_check")
    out.seek(0)
    check("moesif" in out.read(), "the demo's startup lines name the Moesif exporter")

    def call(method, path, headers=None, body=None):
        return call_demo(port, method, path, headers, body)

    posted = json.dumps({"item": "lamp", "quantity": 2, "password": SECRET}).encode()
    statuses = [
        call("POST", "/orders?page=1&token=" + SECRET, {"X-API-Key": "demo-key-acme", "Content-Type": "application/json",
                                                         "Authorization": "Bearer " + SECRET}, posted),
        call("GET", "/orders/1", {"X-API-Key": "demo-key-acme"}),
        call("GET", "/fail", {"X-API-Key": "demo-key-globex"}),
        call("GET", "/orders/1"),
        call("POST", "/orders", {"X-API-Key": "demo-key-acme", "Content-Type": "application/json"},
             json.dumps({"item": "lamp", "quantity": 5000}).encode()),
    ]
    check(statuses == [201, 200, 500, 200, 422], f"demo answered {statuses}")
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=30)
    err.seek(0)
    check(status == 0, f"demo exited with {status}: {err.read()}")
    return port


def readme_mask(value):
    return "sha512-" + base64.b64encode(hashlib.sha512(value.encode()).digest()).decode() + "?" + value[-4:]


def check_moesif(requests):
    moesif = [r for r in requests if r[1].startswith("/v1/config") or r[1].endswith("/batch")]
    check(moesif and moesif[0][:2] == ("GET", "/v1/config"), f"Moesif's configuration is read first: {[r[:2] for r in moesif]}")
    for method, path, headers, raw, _ in moesif:
        lower = {k.lower(): v for k, v in headers.items()}
        check(lower.get("x-moesif-application-id") == MOESIF_APP, f"moesif {path}: application id {lower.get('x-moesif-application-id')}")
        if method == "POST":
            check(lower.get("content-type") == "application/json; charset=utf-8", f"moesif {path}: content-type {lower.get('content-type')}")
            check(lower.get("content-encoding") == "gzip" and raw[:2] == b"\x1f\x8b", f"moesif {path}: not gzip")
    events = [e for r in moesif if r[1] == "/v1/events/batch" for e in json.loads(r[4])]
    check(len(events) == 5, f"moesif: 5 events, got {len(events)}")
    by_key = {(e["request"]["verb"], e["request"]["uri"].split("://", 1)[1].split("/", 1)[1], e["response"]["status"]): e for e in events}
    created = by_key.get(("POST", "orders?page=1&token=%5BREDACTED%5D", 201)) or by_key.get(("POST", "orders?page=1&token=[REDACTED]", 201))
    check(created is not None, f"moesif: the POST with its redacted query, among {sorted(by_key)}")
    if created:
        request, response = created["request"], created["response"]
        check(request["uri"].startswith("http://127.0.0.1:"), f"moesif: uri {request['uri']}")
        check(request["transfer_encoding"] == "json" and request["body"]["item"] == "lamp", f"moesif: request body {request.get('body')}")
        check(request["body"]["password"] == "[REDACTED]", "moesif: the body's password is redacted")
        check(request["headers"].get("Authorization") == "[REDACTED]", f"moesif: Authorization {request['headers'].get('Authorization')}")
        check(request["ip_address"] == "127.0.0.1", f"moesif: ip_address {request.get('ip_address')}")
        check(request.get("api_version") == "2.0.0", f"moesif: api_version {request.get('api_version')}")
        check(len(request["time"]) == 23 and request["time"] <= response["time"], f"moesif: times {request['time']} {response['time']}")
        check(response["transfer_encoding"] == "json" and response["body"]["item"] == "lamp", f"moesif: response body {response.get('body')}")
        check(created["user_id"] == "acme" and created["direction"] == "Incoming" and created["weight"] == 1,
              f"moesif: user, direction, weight {created.get('user_id')} {created.get('direction')} {created.get('weight')}")
        check(created.get("tags") == "route:/orders", f"moesif: tags {created.get('tags')}")
        check(len(created.get("transaction_id", "")) == 32, f"moesif: transaction_id {created.get('transaction_id')}")
    failed = by_key.get(("GET", "fail", 500))
    check(failed is not None and failed["user_id"] == "globex", "moesif: the 500 from globex")
    anonymous = [e for e in events if "user_id" not in e]
    check(len(anonymous) == 1, f"moesif: one anonymous call, got {len(anonymous)}")
    # The demo sends no profile updates; the users, companies and
    # subscriptions batches are checked by MoesifExporterTests.


def check_readme(requests):
    readme = [r for r in requests if r[1] == "/v1/request"]
    check(readme, "ReadMe received logs")
    wanted = "Basic " + base64.b64encode(f"{README_KEY}:".encode()).decode()
    for _, _, headers, _, _ in readme:
        lower = {k.lower(): v for k, v in headers.items()}
        check(lower.get("authorization") == wanted, f"readme: authorization {lower.get('authorization')}")
        check(lower.get("content-type") == "application/json", f"readme: content-type {lower.get('content-type')}")
    logs = [entry for r in readme for entry in json.loads(r[4])]
    # The anonymous call has no group: ReadMe is not sent it.
    check(len(logs) == 4, f"readme: 4 logs, got {len(logs)}")
    schema = json.load(open(SCHEMA))
    for entry in logs:
        try:
            jsonschema.validate(entry["request"], schema, format_checker=jsonschema.FormatChecker())
        except jsonschema.ValidationError as error:
            check(False, f"readme: a log's HAR is not valid HAR 1.2: {error.message} at {list(error.absolute_path)}")
        check(entry["_version"] == 3 and len(entry["_id"]) == 36, f"readme: _version/_id {entry['_version']} {entry['_id']}")
        check(entry["clientIPAddress"] == "127.0.0.1" and entry["development"] is False, "readme: clientIPAddress, development")
    groups = {entry["group"]["id"]: entry["group"] for entry in logs}
    check(readme_mask("acme") in groups, f"readme: acme's group id is hashlib's mask, groups {list(groups)}")
    acme = groups.get(readme_mask("acme"), {})
    check(acme.get("label") == "acme", f"readme: acme's label {acme.get('label')}")
    posts = [e for entry in logs for e in entry["request"]["log"]["entries"] if e["request"]["method"] == "POST"]
    posts = [p for p in posts if p["response"]["status"] == 201]
    check(len(posts) == 1, "readme: the POST is logged")
    if posts:
        request = posts[0]["request"]
        check(request["postData"]["mimeType"] == "application/json", f"readme: postData {request.get('postData')}")
        check({"name": "page", "value": "1"} in request["queryString"], f"readme: queryString {request['queryString']}")
        check(posts[0]["response"]["status"] == 201 and posts[0]["response"]["statusText"] == "Created", "readme: status")


def check_apitally(requests, file_events):
    base = f"/v2/{APITALLY_CLIENT}/e2e"
    hub = [r for r in requests if r[1].startswith(base)]
    paths = [r[1].split("?")[0] for r in hub]
    check(paths.count(f"{base}/startup") == 1 and f"{base}/sync" in paths and f"{base}/log" in paths,
          f"apitally: startup once, a sync and a log upload: {paths}")
    startup = next((json.loads(r[4]) for r in hub if r[1] == f"{base}/startup"), {})
    check({"method": "GET", "path": "/orders/{id}"} in startup.get("paths", []), f"apitally: startup paths {startup.get('paths')}")
    check(startup.get("client") == "swift:apimetrics" and startup.get("versions", {}).get("app") == "2.0.0",
          f"apitally: startup client/versions {startup.get('client')} {startup.get('versions')}")
    syncs = [json.loads(r[4]) for r in hub if r[1] == f"{base}/sync"]
    rows = [row for sync in syncs for row in sync["requests"]]
    # Apitally's own binning, from the file's copy of every call.
    wanted = {}
    for event in file_events:
        key = ((event.get("consumer") or {}).get("id"), event["request"]["method"], event["request"].get("route") or event["request"]["path"],
               event["response"]["status"])
        entry = wanted.setdefault(key, {"count": 0, "times": {}})
        entry["count"] += 1
        bin = str(int(event["duration_ms"] // 10) * 10)
        entry["times"][bin] = entry["times"].get(bin, 0) + 1
    got = {(row["consumer"], row["method"], row["path"], row["status_code"]): row for row in rows}
    check(set(got) == set(wanted), f"apitally: rows {sorted(map(str, got))} against the file's {sorted(map(str, wanted))}")
    for key, entry in wanted.items():
        row = got.get(key, {})
        check(row.get("request_count") == entry["count"], f"apitally: {key} count {row.get('request_count')}, wanted {entry['count']}")
        check(row.get("response_times") == entry["times"], f"apitally: {key} times {row.get('response_times')}, wanted {entry['times']}")
    errors = [e for sync in syncs for e in sync["server_errors"]]
    check(any(e["path"] == "/fail" and e["consumer"] == "globex" and e["error_count"] == 1 for e in errors), f"apitally: server errors {errors}")
    invalid = [e for sync in syncs for e in sync["validation_errors"]]
    check(any(e["loc"] == ["quantity"] and e["type"] == "range" and e["consumer"] == "acme" for e in invalid),
          f"apitally: validation errors {invalid}")
    consumers = {c["identifier"]: c for sync in syncs for c in sync["consumers"]}
    check(consumers.get("acme", {}).get("group") == "demo", f"apitally: consumers {consumers}")
    uploads = [gzip.decompress(r[3]) for r in hub if r[1].startswith(f"{base}/log?uuid=")]
    lines = [json.loads(line) for upload in uploads for line in upload.splitlines()]
    check(len(lines) == 5, f"apitally: 5 request-log lines, got {len(lines)}")
    check(all(set(line) >= {"uuid", "request", "response"} for line in lines), "apitally: request-log lines")


def check_monoscope(requests, file_events):
    traces = [r for r in requests if r[1] == "/v1/traces"]
    check(traces, "Monoscope received spans")
    spans = []
    for _, _, headers, raw, body in traces:
        lower = {k.lower(): v for k, v in headers.items()}
        check(lower.get("x-api-key") == MONOSCOPE_KEY, f"monoscope: x-api-key {lower.get('x-api-key')}")
        check(lower.get("content-type") == "application/x-protobuf" and raw[:2] == b"\x1f\x8b", "monoscope: gzip'd protobuf")
        message = ExportTraceServiceRequest()
        message.ParseFromString(body)
        spans += [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
    check(len(spans) == len(file_events), f"monoscope: {len(file_events)} spans, got {len(spans)}")

    def attributes(span):
        out = {}
        for kv in span.attributes:
            value = kv.value
            kind = value.WhichOneof("value")
            out[kv.key] = [v.string_value for v in value.array_value.values] if kind == "array_value" else getattr(value, kind)
        return out
    ids = {event["id"] for event in file_events}
    for span in spans:
        a = attributes(span)
        check(span.name == "monoscope.http" and span.kind == Span.SPAN_KIND_SERVER, f"monoscope: span {span.name} {span.kind}")
        check(a.get("apitoolkit.msg_id", "").replace("-", "")[:12] in {i[:12] for i in ids}, f"monoscope: msg_id {a.get('apitoolkit.msg_id')}")
        check(a.get("apitoolkit.sdk_type") == "SwiftAPIMetrics" and a.get("apitoolkit.service_version") == "2.0.0",
              f"monoscope: sdk_type, service_version {a.get('apitoolkit.sdk_type')} {a.get('apitoolkit.service_version')}")
        check(a.get("apitoolkit.tags") == ["e2e", "demo"], f"monoscope: tags {a.get('apitoolkit.tags')}")
        for key in ("http.request.query_params", "http.request.path_params", "apitoolkit.errors"):
            check(isinstance(json.loads(a.get(key, "null")), (dict, list)), f"monoscope: {key} is JSON: {a.get(key)}")
    created = [a for a in map(attributes, spans) if a.get("http.response.status_code") == 201]
    check(len(created) == 1, "monoscope: the POST's span")
    if created:
        a = created[0]
        check(json.loads(base64.b64decode(a["http.request.body"]))["password"] == "[REDACTED]", "monoscope: the body, redacted")
        check(json.loads(a["http.request.query_params"]).get("page") == ["1"], f"monoscope: query {a['http.request.query_params']}")
        check(a.get("http.request.header.authorization") == ["[REDACTED]"], f"monoscope: authorization {a.get('http.request.header.authorization')}")
    by_status = {a.get("http.response.status_code"): a for a in map(attributes, spans)}
    get = by_status.get(200, {})
    check(json.loads(get.get("http.request.path_params", "{}")) == {"id": "1"}, f"monoscope: path params {get.get('http.request.path_params')}")
    failed = by_status.get(500, {})
    errors = json.loads(failed.get("apitoolkit.errors", "[]"))
    check(errors and errors[0].get("message") == "the demo failed on purpose", f"monoscope: errors {errors}")


def main():
    ingest = Ingest()
    run_demo(ingest)
    ingest.server.shutdown()
    requests = ingest.requests
    for _, path, _, raw, body in requests:
        check(SECRET.encode() not in raw and SECRET.encode() not in body, f"{path}: a redacted secret reached a vendor")
    check_moesif(requests)
    check_readme(requests)
    events = [json.loads(line) for line in open(os.path.join(WORK, "events.ndjson"))]
    events = [e for e in events if e.get("request")]
    check(len(events) == 5, f"the file kept its five events beside the vendors, got {len(events)}")
    check_apitally(requests, events)
    check_monoscope(requests, events)
    if failures:
        for failure in failures:
            log("FAIL " + failure)
        sys.exit(1)
    log(f"moesif, readme, apitally and monoscope: {len(requests)} requests checked, the HAR entries valid HAR 1.2, no secret sent")


main()
