"""Decodes the OTLP trace request apimetrics-bench writes (--otlp-sample,
in protobuf and in JSON)
with the opentelemetry-proto package's generated classes, an encoder of
protobuf written apart from ours, and checks every span against the sample
exchanges (Benchmarks/Sources/apimetrics-bench/OTLPSample.swift)."""
import json
import sys

from google.protobuf import json_format

from otlp_common import attributes, hex_to_base64, value
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)




body = open(sys.argv[1], "rb").read()
request = ExportTraceServiceRequest()
request.ParseFromString(body)
# Re-encoding what was parsed gives the same bytes (both write fields in
# number order and skip defaults): no field was unknown, misread or dropped.
check(request.SerializeToString() == body, "re-encoded by protobuf, the request differs from what was sent")

# The same exchanges in the JSON encoding are the same message.
from_json = ExportTraceServiceRequest()
json_format.Parse(json.dumps(hex_to_base64(json.load(open(sys.argv[1] + ".json")))), from_json)
check(from_json == request, "the JSON encoding parses to a different message than the protobuf one")

check(len(request.resource_spans) == 1, "one ResourceSpans")
resource_spans = request.resource_spans[0]
resource = attributes(resource_spans.resource)
check(resource == {
    "service.name": "orders-api", "service.version": "1.4.2", "deployment.environment.name": "staging",
    "service.instance.id": "host-7", "telemetry.sdk.name": "apimetrics", "telemetry.sdk.language": "swift",
    "telemetry.sdk.version": resource.get("telemetry.sdk.version"),
}, f"resource attributes: {resource}")
check(resource.get("telemetry.sdk.version", "") != "", "telemetry.sdk.version is set")
scope_spans = resource_spans.scope_spans[0]
check(scope_spans.scope.name == "APIMetrics", f"scope {scope_spans.scope.name}")
spans = list(scope_spans.spans)
check(len(spans) == 3, f"three spans, got {len(spans)}")
incoming, outgoing, unmatched = spans

# The incoming call: a SERVER span in the trace its traceparent named.
check(incoming.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736", f"trace id {incoming.trace_id.hex()}")
check(incoming.span_id.hex() == "1112131415161718", f"span id {incoming.span_id.hex()}")
check(incoming.parent_span_id.hex() == "00f067aa0ba902b7", f"the traceparent's span is the parent: {incoming.parent_span_id.hex()}")
check(incoming.name == "POST /orders", f"name {incoming.name}")
check(incoming.kind == Span.SPAN_KIND_SERVER, "server kind")
check(incoming.start_time_unix_nano == 1_795_255_200_123_000_000, "start time")
check(incoming.end_time_unix_nano == 1_795_255_200_123_000_000 + 3_214_000, "end time")
a = attributes(incoming)
expected = {
    "http.request.method": "POST", "url.path": "/orders", "url.query": "page=2&api_key=[REDACTED]",
    "url.scheme": "http", "http.route": "/orders", "http.response.status_code": 503,
    "server.address": "api.example.com", "server.port": 8443, "client.address": "10.0.0.9",
    "user_agent.original": "curl/8.5.0", "enduser.id": "acme", "apimetrics.consumer.name": "Acme Corp",
    "apimetrics.consumer.group": "enterprise", "error.type": "503",
    "http.request.body.size": 48, "http.response.body.size": 21,
    "http.request.header.accept": ["application/json", "text/plain"],
    "http.request.header.x-long": ["v" * 300],
    "http.request.header.x-raw": ["a\ufffdb"], "network.protocol.version": "1.1",
    "http.response.header.retry-after": ["5"],
}
for key, wanted in expected.items():
    check(a.get(key) == wanted, f"incoming {key}: {a.get(key)!r}, wanted {wanted!r}")
check(incoming.status.code == Status.STATUS_CODE_ERROR, "a 503 is an error on a server span")
check(len(incoming.events) == 1 and incoming.events[0].name == "exception", "one exception event")
event = attributes(incoming.events[0])
check(event == {"exception.type": "DatabaseUnavailable", "exception.message": "the pool is empty"}, f"event {event}")

# The outgoing call: a CLIENT span whose parent is the incoming span.
check(outgoing.kind == Span.SPAN_KIND_CLIENT, "client kind")
check(outgoing.parent_span_id == incoming.span_id, "the outgoing span's parent is the incoming span")
check(outgoing.trace_id == incoming.trace_id, "same trace")
check(outgoing.name == "GET", f"name {outgoing.name}")
b = attributes(outgoing)
for key, wanted in {
    "url.full": "https://inventory.internal:9000/stock/42?fresh=1", "url.scheme": "https",
    "url.path": "/stock/42", "url.query": "fresh=1", "server.address": "inventory.internal",
    "server.port": 9000, "http.response.status_code": 404, "error.type": "404",
}.items():
    check(b.get(key) == wanted, f"outgoing {key}: {b.get(key)!r}, wanted {wanted!r}")
check(outgoing.status.code == Status.STATUS_CODE_ERROR, "a 404 is an error on a client span")

# An unknown method and no route: _OTHER, the method as the name, status unset.
c = attributes(unmatched)
check(c.get("http.request.method") == "_OTHER" and c.get("http.request.method_original") == "PURGE", f"method {c}")
check(unmatched.name == "PURGE" and "http.route" not in c, f"name {unmatched.name}")
check(unmatched.status.code == Status.STATUS_CODE_UNSET and "error.type" not in c, "a 200 leaves the status unset")
check(unmatched.trace_id.hex() == "4142434445464748" + "5152535455565758", "no traceparent: the event id is the trace")
check(unmatched.parent_span_id == b"", "no traceparent, no parent")

if failures:
    print("otlp_check: " + "\n  ".join(failures))
    sys.exit(1)
print(f"otlp_check: {len(spans)} spans, {len(body)} bytes, decoded by opentelemetry-proto and as sent")
