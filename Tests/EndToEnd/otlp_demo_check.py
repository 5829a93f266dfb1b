#!/usr/bin/env python3
"""The demo exporting over OTLP/HTTP to a loopback collector, decoded by the
opentelemetry-proto package (protobuf's own parsers, written apart from ours).

usage: otlp_demo_check.py DEMO_BINARY

1. protobuf: APIMETRICS_OTLP_ENDPOINT, APIMETRICS_FILE=off: gzip'd
   http/protobuf bodies, parsed with ParseFromString.
2. json:     OTEL_EXPORTER_OTLP_ENDPOINT with http/json, no compression,
   an API key header, cumulative metrics and the exponential histogram,
   headers and body sizes on spans,
   alongside the NDJSON file: bodies parsed with json_format.Parse once the
   protocol's hex ids are turned back into protobuf JSON's base64.

Both runs send the same calls through the demo and check every attribute
of the spans, log records and metrics against what was sent.
"""
import gzip
import json
import os
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from demo_process import call as call_demo, start_demo
from google.protobuf import json_format
from otlp_common import attributes, hex_to_base64, value
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

DEMO = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="apimetrics-otlp-")
TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
POSTED = json.dumps({"item": "book", "quantity": 2, "password": "hunter2"}).encode()
failures = []


def log(message):
    print(f"otlp_demo_check: {message}", flush=True)


def check(condition, message):
    if not condition:
        failures.append(message)


class Collector:
    """Keeps every OTLP request: path, headers, body (gunzipped)."""

    def __init__(self):
        self.requests = []
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                with lock:
                    outer.requests.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", self.headers.get("Content-Type", "application/x-protobuf"))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def run_demo(env, name):
    # A store of its own each run: what discovery learnt in one is not "new" in the next.
    env = {"APIMETRICS_STORE": os.path.join(WORK, f"{name}.sqlite"), **env}
    process, port, out, err = start_demo(DEMO, env, WORK, name, "otlp_demo_check")

    def call(method, path, headers=None, body=None):
        return call_demo(port, method, path, headers, body)

    statuses = [
        call("POST", "/orders?api_key=s3cret&page=1",
             {"X-API-Key": "demo-key-acme", "User-Agent": "e2e-agent/1.0", "Content-Type": "application/json",
              "traceparent": f"00-{TRACE}-{PARENT}-01"},
             POSTED),
        call("GET", "/fail", {"X-API-Key": "demo-key-globex"}),
        call("GET", "/proxy?to=/orders/1", {"X-API-Key": "demo-key-acme"}),
        call("POST", "/orders", {"Content-Type": "application/json"}, json.dumps({"quantity": 5000}).encode()),
        call("PURGE", "/orders"),
    ]
    check(statuses[:4] == [201, 500, 200, 422], f"{name}: demo answered {statuses}")
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=30)
    err.seek(0)
    check(status == 0, f"{name}: demo exited with {status}: {err.read()}")
    return port



def decode(requests, path, message_type, is_json):
    messages = []
    for request_path, _, body in requests:
        if request_path != path:
            continue
        message = message_type()
        if is_json:
            json_format.Parse(json.dumps(hex_to_base64(json.loads(body))), message)
        else:
            message.ParseFromString(body)
        messages.append(message)
    return messages




def expect(name, where, got, wanted):
    for key, expected in wanted.items():
        check(got.get(key) == expected, f"{name}: {where} {key} = {got.get(key)!r}, wanted {expected!r}")


def check_resource(name, resource, env):
    a = attributes(resource)
    expect(name, "resource", a, {
        "service.name": "apimetrics-demo", "service.version": "2.0.0", "deployment.environment.name": "e2e",
        "telemetry.sdk.name": "apimetrics", "telemetry.sdk.language": "swift", "k8s.pod.name": "demo-1",
    })
    check(a.get("service.instance.id"), f"{name}: service.instance.id is set")
    check(a.get("telemetry.sdk.version"), f"{name}: telemetry.sdk.version is set")


def check_run(name, collector, port, is_json, cumulative, span_extras):
    requests = collector.requests
    paths = {path for path, _, _ in requests}
    check(paths == {"/v1/traces", "/v1/logs", "/v1/metrics"}, f"{name}: paths {paths}")
    for path, headers, _ in requests:
        lower = {k.lower(): v for k, v in headers.items()}
        check(lower.get("content-type") == ("application/json" if is_json else "application/x-protobuf"),
              f"{name}: {path} content-type {lower.get('content-type')}")
        check(lower.get("content-encoding") == (None if is_json else "gzip"), f"{name}: {path} content-encoding")
        check(lower.get("user-agent", "").startswith("apimetrics-swift/"), f"{name}: {path} user-agent {lower.get('user-agent')}")
        if is_json:
            check(lower.get("x-api-key") == "e2e key", f"{name}: {path} OTEL_EXPORTER_OTLP_HEADERS not sent: {lower}")

    # Traces.
    traces = decode(requests, "/v1/traces", ExportTraceServiceRequest, is_json)
    spans = []
    for request in traces:
        for resource_spans in request.resource_spans:
            check_resource(name, resource_spans.resource, {})
            for scope_spans in resource_spans.scope_spans:
                check(scope_spans.scope.name == "APIMetrics", f"{name}: scope {scope_spans.scope.name}")
                spans.extend(scope_spans.spans)
    by_name = {}
    for span in spans:
        by_name.setdefault((span.name, span.kind), []).append(span)
    # Five calls, the proxy's outgoing call, and that call arriving back at the demo.
    check(len(spans) == 7, f"{name}: 7 spans, got {[s.name for s in spans]}")

    created = by_name.get(("POST /orders", Span.SPAN_KIND_SERVER), [])
    created = [s for s in created if attributes(s).get("http.response.status_code") == 201]
    check(len(created) == 1, f"{name}: one POST /orders 201 span")
    if created:
        span = created[0]
        check(span.trace_id.hex() == TRACE, f"{name}: trace id {span.trace_id.hex()}, wanted the traceparent's")
        check(span.parent_span_id.hex() == PARENT, f"{name}: parent {span.parent_span_id.hex()}, wanted the traceparent's")
        check(span.end_time_unix_nano > span.start_time_unix_nano > 1_700_000_000 * 10**9, f"{name}: span times")
        check(span.status.code == Status.STATUS_CODE_UNSET, f"{name}: a 201 leaves the status unset")
        a = attributes(span)
        expect(name, "POST /orders", a, {
            "http.request.method": "POST", "url.path": "/orders", "url.scheme": "http", "http.route": "/orders",
            "http.response.status_code": 201, "server.address": "127.0.0.1", "server.port": port,
            "client.address": "127.0.0.1", "user_agent.original": "e2e-agent/1.0", "network.protocol.version": "1.1",
            "enduser.id": "acme", "apimetrics.consumer.name": "acme", "apimetrics.consumer.group": "demo",
        })
        query = a.get("url.query", "")
        check("page=1" in query and "api_key=" in query and "s3cret" not in query, f"{name}: url.query redacted: {query!r}")
        check("error.type" not in a, f"{name}: no error.type on a 201")
        if span_extras:
            check(a.get("http.request.header.x-api-key") == ["[REDACTED]"], f"{name}: span header x-api-key {a.get('http.request.header.x-api-key')}")
            check(a.get("http.request.header.user-agent") == ["e2e-agent/1.0"], f"{name}: span header user-agent")
            check(a.get("http.response.header.content-type") == ["application/json"], f"{name}: span response header")
            check(a.get("http.request.body.size") == len(POSTED) and a.get("http.response.body.size", 0) > 0,
                  f"{name}: span body sizes {a.get('http.request.body.size')} / {a.get('http.response.body.size')}")
        else:
            check(not any(k.startswith("http.request.header.") for k in a) and "http.request.body.size" not in a,
                  f"{name}: headers and body sizes are opt-in on spans")

    failed = by_name.get(("GET /fail", Span.SPAN_KIND_SERVER), [])
    check(len(failed) == 1, f"{name}: one GET /fail span")
    if failed:
        span = failed[0]
        a = attributes(span)
        check(span.status.code == Status.STATUS_CODE_ERROR, f"{name}: a 500 is an error")
        expect(name, "GET /fail", a, {"error.type": "500", "http.response.status_code": 500, "enduser.id": "globex"})
        events = [e for e in span.events if e.name == "exception"]
        check(len(events) == 1, f"{name}: one exception event on GET /fail")
        if events:
            e = attributes(events[0])
            check(e.get("exception.type") and "failed on purpose" in e.get("exception.message", ""), f"{name}: exception {e}")

    proxy = by_name.get(("GET /proxy", Span.SPAN_KIND_SERVER), [])
    outgoing = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    check(len(proxy) == 1 and len(outgoing) == 1, f"{name}: a proxy span and one client span")
    if proxy and outgoing:
        check(outgoing[0].parent_span_id == proxy[0].span_id, f"{name}: the outgoing span's parent is the proxy's span")
        check(outgoing[0].trace_id == proxy[0].trace_id, f"{name}: one trace for the proxy and its call")
        b = attributes(outgoing[0])
        check(b.get("url.full", "").endswith("/orders/1") and b.get("server.port") == port, f"{name}: client span {b}")

    other = [s for s in spans if attributes(s).get("http.request.method") == "_OTHER"]
    check(len(other) == 1 and attributes(other[0]).get("http.request.method_original") == "PURGE",
          f"{name}: PURGE is _OTHER with its original")

    # Logs: one per call, with its span's ids, headers and bodies redacted.
    logs = decode(requests, "/v1/logs", ExportLogsServiceRequest, is_json)
    every = [r for req in logs for rl in req.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    records = [r for r in every if r.event_name == "apimetrics.exchange"]
    # The API's changes as discovery saw them: the demo's endpoints are new to this run.
    changes = [r for r in every if r.event_name == "apimetrics.api_change"]
    # The default alert rules (APIMETRICS_ALERTS=default): the /fail call is a new server-error group, told once.
    alerts = [r for r in every if r.event_name == "apimetrics.alert"]
    check(len(changes) + len(records) + len(alerts) == len(every), f"{name}: every log record is a call, a change or an alert")
    check([(attributes(r).get("apimetrics.alert.rule"), attributes(r).get("apimetrics.alert.state"), r.severity_number) for r in alerts]
          == [("new server error", "firing", 17)], f"{name}: the alerts {[r.body.string_value for r in alerts]}")
    new_endpoints = {attributes(r).get("apimetrics.change.location") for r in changes
                     if attributes(r).get("apimetrics.change.kind") == "new_endpoint"}
    check({"POST /orders", "GET /fail", "GET /proxy"} <= new_endpoints, f"{name}: new endpoints {new_endpoints}")
    check(all(len(attributes(r).get("apimetrics.event.id", "")) == 32 and r.time_unix_nano > 0 and r.severity_number in (9, 13)
              for r in changes), f"{name}: each change names its example call and time")
    for req in logs:
        for rl in req.resource_logs:
            check_resource(name, rl.resource, {})
    check(len(records) == len(spans), f"{name}: {len(records)} log records for {len(spans)} spans")
    span_ids = {(s.trace_id, s.span_id) for s in spans}
    check(all((r.trace_id, r.span_id) in span_ids for r in records), f"{name}: every log record names its span")
    posted = [r for r in records if r.trace_id.hex() == TRACE]
    check(len(posted) == 1, f"{name}: the POST's log record")
    if posted:
        r = posted[0]
        a = attributes(r)
        check(r.severity_number == 9 and r.severity_text == "INFO", f"{name}: a 201 is INFO")
        check(r.body.string_value.startswith("POST /orders?") and r.body.string_value.endswith(" 201"), f"{name}: body {r.body}")
        request_body = a.get("apimetrics.request.body", "")
        check('"book"' in request_body and "hunter2" not in request_body, f"{name}: request body redacted: {request_body!r}")
        check(a.get("http.request.header.x-api-key") == ["[REDACTED]"], f"{name}: x-api-key {a.get('http.request.header.x-api-key')}")
        check(a.get("http.request.header.user-agent") == ["e2e-agent/1.0"], f"{name}: user-agent header")
        check(a.get("http.request.body.size", 0) > 0 and '"id"' in a.get("apimetrics.response.body", ""), f"{name}: response body")
        check(a.get("enduser.id") == "acme" and a.get("http.route") == "/orders", f"{name}: log attributes {a}")
        check(r.time_unix_nano > 0 and r.observed_time_unix_nano >= r.time_unix_nano, f"{name}: log times")
    severities = sorted(r.severity_number for r in records)
    check(17 in severities and 13 in severities, f"{name}: ERROR and WARN records: {severities}")

    # Metrics.
    metrics = decode(requests, "/v1/metrics", ExportMetricsServiceRequest, is_json)
    check(len(metrics) >= 1, f"{name}: at least the final metrics window")
    by_metric = {}
    for req in metrics:
        for rm in req.resource_metrics:
            check_resource(name, rm.resource, {})
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    by_metric.setdefault(metric.name, []).append(metric)
    wanted_temporality = (AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE if cumulative
                          else AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA)
    durations = by_metric.get("http.server.request.duration", [])
    check(durations and all(m.unit == "s" for m in durations), f"{name}: http.server.request.duration in s")
    # The last window's points: cumulative ones hold every call, delta ones add up over windows.
    points = []
    for metric in (durations[-1:] if cumulative else durations):
        kind = metric.WhichOneof("data")
        check(kind == ("exponential_histogram" if cumulative else "histogram"), f"{name}: duration is a {kind}")
        data = getattr(metric, kind)
        check(data.aggregation_temporality == wanted_temporality, f"{name}: temporality {data.aggregation_temporality}")
        points.extend(data.data_points)
    calls = {}
    for point in points:
        a = attributes(point)
        key = (a.get("http.request.method"), a.get("http.route"), a.get("http.response.status_code"))
        calls[key] = calls.get(key, 0) + point.count
        check(point.count > 0 and point.sum > 0 and point.max >= point.min > 0, f"{name}: point {key} count/sum/min/max")
        if cumulative:
            check(point.scale <= 6 and sum(point.positive.bucket_counts) + point.zero_count == point.count,
                  f"{name}: exponential buckets of {key} add up")
        else:
            check(list(point.explicit_bounds) == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
                  f"{name}: recommended boundaries")
            check(len(point.bucket_counts) == 15 and sum(point.bucket_counts) == point.count, f"{name}: buckets of {key}")
        if a.get("http.response.status_code") == 500:
            check(a.get("error.type") == "500", f"{name}: error.type on the 500 series")
    expect(name, "calls by series", {str(k): v for k, v in calls.items()}, {
        str(("POST", "/orders", 201)): 1, str(("GET", "/fail", 500)): 1, str(("GET", "/proxy", 200)): 1,
        str(("POST", "/orders", 422)): 1,
    })
    for size_metric in ("http.server.request.body.size", "http.server.response.body.size"):
        found = by_metric.get(size_metric, [])
        check(found and all(m.unit == "By" and m.WhichOneof("data") == "histogram" for m in found), f"{name}: {size_metric}")
    posted_size = [p for m in by_metric.get("http.server.request.body.size", [])[-1:] for p in m.histogram.data_points
                   if attributes(p).get("http.response.status_code") == 201]
    check(posted_size and posted_size[0].sum > 0, f"{name}: the POST's request body size")
    recorded = by_metric.get("apimetrics.events.recorded", [])
    check(recorded and all(m.sum.is_monotonic for m in recorded), f"{name}: apimetrics.events.recorded is a monotonic sum")
    values = [p.as_int for m in recorded for p in m.sum.data_points]
    total = values[-1] if cumulative else sum(values)
    check(total == len(spans), f"{name}: recorded {total}, wanted {len(spans)} (every call)")
    dropped = by_metric.get("apimetrics.events.dropped", [])
    reasons = {attributes(p).get("apimetrics.drop.reason") for m in dropped for p in m.sum.data_points}
    check(reasons == {"queue_full", "shed", "processing", "spool_full"}, f"{name}: dropped by reason {reasons}")
    check("apimetrics.queue.size" in by_metric and by_metric["apimetrics.queue.size"][0].WhichOneof("data") == "gauge",
          f"{name}: the queue size gauge")
    return len(spans), len(records), len(points)


base_env = {"APIMETRICS_LOG_BODY": "true", "APIMETRICS_VERSION": "2.0.0", "APIMETRICS_ENV": "e2e",
            "OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=demo-1", "APIMETRICS_DASHBOARD": "0", "APIMETRICS_PROMETHEUS": "0",
            "APIMETRICS_ALERTS": "default"}

collector = Collector()
port = run_demo({**base_env, "APIMETRICS_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}", "APIMETRICS_FILE": "off"},
                "protobuf")
collector.stop()
counts = check_run("protobuf", collector, port, is_json=False, cumulative=False, span_extras=False)
check(not os.path.exists(os.path.join(WORK, "apimetrics.ndjson")), "protobuf: APIMETRICS_FILE=off wrote no file")
log(f"protobuf: {counts[0]} spans, {counts[1]} log records, {counts[2]} duration points decoded")

collector = Collector()
events_file = os.path.join(WORK, "events.ndjson")
port = run_demo({**base_env, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
                 "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
                 "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=e2e%20key",
                 "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "cumulative",
                 "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": "base2_exponential_bucket_histogram",
                 "APIMETRICS_OTLP_SPAN_HEADERS": "true", "APIMETRICS_OTLP_SPAN_BODY_SIZES": "true",
                 "APIMETRICS_FILE": events_file}, "json")
collector.stop()
counts = check_run("json", collector, port, is_json=True, cumulative=True, span_extras=True)
lines = [json.loads(line) for line in open(events_file)] if os.path.exists(events_file) else []
check(len([l for l in lines if l.get("kind", "event") == "event" and "request" in l]) == counts[0],
      f"json: the file alongside holds the {counts[0]} events too ({len(lines)} lines)")
log(f"json: {counts[0]} spans, {counts[1]} log records, {counts[2]} duration points decoded; file alongside")

if failures:
    print("otlp_demo_check: FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
log("every attribute as sent, in both encodings")
