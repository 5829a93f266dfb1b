"""Monoscope's OTLP/HTTP collector (otelcol.monoscope.tech:4318, an
OpenTelemetry Collector) and the ingest behind it, as strict as they are.

The collector's OTLP/HTTP receiver (opentelemetry-collector
receiver/otlpreceiver, config/confighttp): POST only (405); Content-Type
application/x-protobuf or application/json (415); Content-Encoding gzip,
deflate or none; a body over 20 MiB once decompressed, or one that does not
decode as the signal's Export*ServiceRequest, gets 400 with a
google.rpc.Status body (code 3, INVALID_ARGUMENT) in the request's encoding;
success is 200 with an empty Export*ServiceResponse.

Monoscope's ingest (monoscope-tech/monoscope src/Opentelemetry/OtlpServer.hs)
finds the project from the `x-api-key` header on its direct path and from
the resource attributes `at-project-key` / `x-api-key` on the queue path
behind older and self-hosted collectors; a payload whose key resolves to no
project is dropped without a word. The stand-in answers that as a collector
that checks keys does: 401 (google.rpc.Status code 16, UNAUTHENTICATED)
when a key is missing from the header or from a resource, 403 (code 7,
PERMISSION_DENIED) when one is not the project's key (default
`mono-e2e-key`; `configure({"apiKey": ...})`).

Each decoded request, turned into JSON by json_format.MessageToDict, is
checked against schemas/monoscope-{traces,logs,metrics}.json (what the
ingest reads and the SDKs send: the span's name, kind, ids, times, the
attributes Monoscope's SDKs write and their types, exception events, log
severities, metric kinds); then, beyond what JSON Schema says:
- ids not all zero (Monoscope reads zero ids as absent);
- a span's end not before its start;
- no attribute key twice in a list, and none that is both a key and the
  start of another (`a.b` and `a.b.c`): Monoscope nests keys at their dots
  when it stores them, and such a key's value is lost there;
- the string values Monoscope parses as JSON (`http.request.query_params`,
  `http.request.path_params`: objects; `apitoolkit.errors`: an array);
- metric counts within 2^63-1 (Monoscope refuses the whole request
  otherwise) and histogram points with one bucket count more than bounds
  (Monoscope drops the point otherwise).
Such a payload is refused with 400 here, although the real collector would
take it and Monoscope would lose it (or part of it) silently.
"""
import base64
import json

from standin import Answer, Vendor

MAX_DECOMPRESSED = 20 * 1024 * 1024
INT64_MAX = 2**63 - 1
SIGNALS = {
    "/v1/traces": ("traces", "resourceSpans"),
    "/v1/logs": ("logs", "resourceLogs"),
    "/v1/metrics": ("metrics", "resourceMetrics"),
}
JSON_ATTRIBUTES = {
    "http.request.query_params": dict,
    "http.request.path_params": dict,
    "apitoolkit.errors": list,
}


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def status_protobuf(code, message):
    """google.rpc.Status { int32 code = 1; string message = 2; }"""
    text = message.encode()
    return b"\x08" + varint(code) + b"\x12" + varint(len(text)) + text


class Stand(Vendor):
    name = "monoscope"

    def __init__(self):
        super().__init__()
        self.api_key = "mono-e2e-key"

    def configure(self, settings):
        if "apiKey" in settings:
            self.api_key = str(settings["apiKey"])

    def status(self, request, http_status, code, message):
        """An answer as the collector writes a google.rpc.Status."""
        if (request.header("content-type") or "").split(";")[0].strip().lower() == "application/json":
            return Answer(http_status, {"code": code, "message": message})
        return Answer(http_status, status_protobuf(code, message), [("Content-Type", "application/x-protobuf")])

    def refuse_status(self, request, http_status, code, reason):
        answer = self.status(request, http_status, code, reason)
        self.refuse(http_status, reason, answer.body)

    def handle(self, request):
        if request.path not in SIGNALS:
            self.refuse(404, f"no OTLP endpoint {request.path}", "404 page not found")
        if request.method != "POST":
            self.refuse(405, f"{request.method} {request.path}: only POST is allowed", f"{request.method} method not allowed, supported: [POST]")
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type not in ("application/x-protobuf", "application/json"):
            self.refuse(415, f"unsupported Content-Type {content_type!r}",
                        f"415 unsupported media type, supported: [application/json, application/x-protobuf]")
        if len(request.body) > MAX_DECOMPRESSED:
            self.refuse_status(request, 400, 3, f"body of {len(request.body)} bytes decompressed, over the collector's 20 MiB")
        signal, top = SIGNALS[request.path]
        message = self.decode(request, signal, content_type)
        from google.protobuf import json_format

        document = json_format.MessageToDict(message)
        self.check_key(request, document.get(top, []), signal)
        problem = self.check(document, f"monoscope-{signal}.json") or self.deeper(document, signal)
        if problem:
            self.refuse_status(request, 400, 3, problem)
        if content_type == "application/json":
            return Answer(200, {})
        return Answer(200, b"", [("Content-Type", "application/x-protobuf")])

    def decode(self, request, signal, content_type):
        from google.protobuf import json_format
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        message = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
                   "metrics": ExportMetricsServiceRequest}[signal]()
        try:
            if content_type == "application/json":
                json_format.ParseDict(hex_ids_to_base64(json.loads(request.body)), message)
            else:
                message.ParseFromString(request.body)
        except (DecodeError, ValueError, json_format.ParseError, UnicodeDecodeError) as error:
            self.refuse_status(request, 400, 3, f"the body is not an Export{signal.title()}ServiceRequest: {error}")
        return message

    def check_key(self, request, resources, signal):
        header = request.header("x-api-key")
        if header is None:
            self.refuse_status(request, 401, 16, "no x-api-key header")
        if header != self.api_key:
            self.refuse_status(request, 403, 7, "the x-api-key header is not the project's key")
        for index, item in enumerate(resources):
            attributes = {a.get("key"): a.get("value", {}).get("stringValue")
                          for a in item.get("resource", {}).get("attributes", [])}
            key = attributes.get("at-project-key") or attributes.get("x-api-key")
            if key is None:
                self.refuse_status(request, 401, 16, f"resource {index} of the {signal} has no at-project-key or x-api-key attribute: "
                                   "collectors before March 2026 find the project only there")
            if key != self.api_key:
                self.refuse_status(request, 403, 7, f"resource {index}'s project key is not the project's key")

    def deeper(self, document, signal):
        for path, attributes in attribute_lists(document):
            problem = attribute_problem(attributes)
            if problem:
                return f"{path}: {problem}"
        if signal == "traces":
            for r, s, i, span in items(document, "resourceSpans", "scopeSpans", "spans"):
                where = f"resourceSpans/{r}/scopeSpans/{s}/spans/{i}"
                for field in ("traceId", "spanId", "parentSpanId"):
                    if field in span and not any(base64.b64decode(span[field])):
                        return f"{where}/{field} is all zeros"
                if int(span["endTimeUnixNano"]) < int(span["startTimeUnixNano"]):
                    return f"{where}: ends before it starts"
        elif signal == "logs":
            for r, s, i, log in items(document, "resourceLogs", "scopeLogs", "logRecords"):
                for field in ("traceId", "spanId"):
                    if not any(base64.b64decode(log[field])):
                        return f"resourceLogs/{r}/scopeLogs/{s}/logRecords/{i}/{field} is all zeros"
        else:
            for r, s, i, metric in items(document, "resourceMetrics", "scopeMetrics", "metrics"):
                where = f"resourceMetrics/{r}/scopeMetrics/{s}/metrics/{i} ({metric.get('name')})"
                for kind in ("histogram", "exponentialHistogram", "summary"):
                    for p, point in enumerate(metric.get(kind, {}).get("dataPoints", [])):
                        counts = [point.get("count", "0"), point.get("zeroCount", "0")] + point.get("bucketCounts", [])
                        for side in ("positive", "negative"):
                            counts += point.get(side, {}).get("bucketCounts", [])
                        if any(int(c) > INT64_MAX for c in counts):
                            return f"{where}/dataPoints/{p}: a count over 2^63-1"
                        if kind == "histogram" and len(point.get("bucketCounts", [])) != len(point.get("explicitBounds", [])) + 1:
                            return f"{where}/dataPoints/{p}: {len(point.get('bucketCounts', []))} bucket counts for {len(point.get('explicitBounds', []))} bounds"
        return None


def items(document, *levels):
    for r, resource in enumerate(document.get(levels[0], [])):
        for s, scope in enumerate(resource.get(levels[1], [])):
            for i, item in enumerate(scope.get(levels[2], [])):
                yield r, s, i, item


def attribute_lists(node, path=""):
    """Every attribute list in the document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}/{key}" if path else key
            if key in ("attributes", "filteredAttributes") and isinstance(value, list):
                yield where, value
            yield from attribute_lists(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from attribute_lists(value, f"{path}/{index}")


def attribute_problem(attributes):
    keys = [a.get("key", "") for a in attributes]
    seen = set()
    for key in keys:
        if key in seen:
            return f"the key {key!r} twice"
        seen.add(key)
    for key in keys:
        prefix = key + "."
        if any(other.startswith(prefix) for other in keys):
            return f"{key!r} is a key and the start of another: Monoscope nests keys at their dots and would lose its value"
    for attribute in attributes:
        kind = JSON_ATTRIBUTES.get(attribute.get("key"))
        text = attribute.get("value", {}).get("stringValue")
        if kind and text is not None:
            try:
                parsed = json.loads(text)
            except ValueError:
                return f"{attribute['key']} is not JSON: {text[:80]!r}"
            if not isinstance(parsed, kind):
                return f"{attribute['key']} is not a JSON {'object' if kind is dict else 'array'}: {text[:80]!r}"
    return None


def hex_ids_to_base64(node):
    """OTLP/JSON writes ids in hex; json_format reads bytes as base64."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                try:
                    value = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise ValueError(f"{key} {value!r} is not hex")
            out[key] = hex_ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [hex_ids_to_base64(value) for value in node]
    return node
