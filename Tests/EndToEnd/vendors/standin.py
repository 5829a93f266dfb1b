#!/usr/bin/env python3
"""Strict stand-ins for the vendors' ingests: an HTTP server on 127.0.0.1
that checks every request the way the vendor does and answers as the
vendor documents, refusing what the vendor would refuse.

A vendor is a module beside this file, `<vendor>.py`, defining
`class Stand(Vendor)` with `handle(self, request) -> Answer`. Its schemas
are JSON Schema 2020-12 documents in `schemas/`, checked by the real
`jsonschema` package with format checking on (`uuid`, `date-time`, ...):
`self.check(instance, "moesif-event.json")` returns the first violation as
text, or None.

A `Request` has `method`, `target` (path and query as sent), `path`,
`query` (dict of lists), `headers` (names lowercased, values of repeated
fields joined with ", "), `raw` (the body as received) and `body` (after
`Content-Encoding: gzip` or `deflate` is undone; None with `self.refuse`
already answered when it cannot be). `request.json()` parses the body, or
raises `Refusal` with a reason.

An `Answer(status, body=b"", headers=())` is what is sent back; `body`
may be bytes, str or anything JSON can write. `self.refuse(status, reason,
body)` makes the answer for a refusal and records the reason: every
request the stand-in received is kept with its answer's status and, when
refused, why.

Two ways to use it:
- in Python: `stand = start("moesif")`, then `stand.url`,
  `stand.received()`, `stand.refusals()`, `stand.script([...])`,
  `stand.configure({...})`, `stand.stop()`;
- as a process (the Swift tests' `VendorStandIn`):
  `python3 standin.py VENDOR` prints `{"port": N}` on its first line and
  serves until its standard input closes. Control requests, answered
  without being recorded:
    GET  /_standin/received  every request kept: method, target, headers,
         body (base64 of the decoded body), status, refusal
    POST /_standin/script    {"answers": [{"status": 429, "headers": {..},
         "body": ".."}]}: the next requests get these answers in order,
         after being recorded (their checks still run and are kept)
    POST /_standin/configure a vendor's own settings (its `configure`)
    POST /_standin/reset     forgets what was received
"""
import base64
import gzip
import importlib
import json
import os
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "schemas")
MAX_BODY = 64 * 1024 * 1024


class Refusal(Exception):
    """Raised by a check that refuses the request: status, reason, body."""

    def __init__(self, status, reason, body=None):
        super().__init__(reason)
        self.status, self.reason, self.body = status, reason, body


class Request:
    def __init__(self, method, target, headers, raw):
        self.method, self.target, self.raw = method, target, raw
        parts = urlsplit(target)
        self.path = parts.path
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = raw

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise Refusal(400, f"body is not JSON: {error}")


class Answer:
    def __init__(self, status, body=b"", headers=()):
        self.status = status
        if isinstance(body, (bytes, bytearray)):
            self.body = bytes(body)
        elif isinstance(body, str):
            self.body = body.encode()
        else:
            self.body = json.dumps(body).encode()
            headers = list(headers) + [("Content-Type", "application/json")]
        self.headers = list(headers)


class Vendor:
    """Subclass as `Stand` in `<vendor>.py`; override `handle`, and
    `configure` when the vendor has settings a test changes."""

    name = "vendor"

    def __init__(self):
        self._validators = {}
        self.lock = threading.Lock()

    def handle(self, request):
        raise NotImplementedError

    def configure(self, settings):
        raise Refusal(400, f"{self.name} has no settings to configure")

    def check(self, instance, schema_file):
        """The first violation of `schemas/schema_file` as text, or None."""
        validator = self.validator(schema_file)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not errors:
            return None
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        return f"{schema_file}: at {where}: {error.message[:300]}"

    def validator(self, schema_file):
        import jsonschema
        from referencing import Registry, Resource

        with self.lock:
            if schema_file not in self._validators:
                registry = Registry()
                for name in os.listdir(SCHEMAS):
                    if name.endswith(".json"):
                        with open(os.path.join(SCHEMAS, name)) as handle:
                            resource = Resource.from_contents(json.load(handle))
                        registry = registry.with_resource(name, resource)
                with open(os.path.join(SCHEMAS, schema_file)) as handle:
                    schema = json.load(handle)
                cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
                cls.check_schema(schema)
                self._validators[schema_file] = cls(
                    schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
            return self._validators[schema_file]

    def refuse(self, status, reason, body=None):
        """An answer refusing the request, its reason kept."""
        raise Refusal(status, reason, body)


def decode_body(raw, encoding):
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding == "gzip":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise Refusal(400, f"Content-Encoding gzip but the body is not gzip: {error}")
    if encoding == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error as error:
            raise Refusal(400, f"Content-Encoding deflate but the body is not zlib: {error}")
    raise Refusal(415, f"unsupported Content-Encoding {encoding!r}")


class StandIn:
    def __init__(self, vendor, port=0):
        module = importlib.import_module(vendor)
        self.vendor = module.Stand()
        self.kept = []
        self.scripted = []
        self.lock = threading.Lock()
        stand = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def send(self, answer):
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(answer.body)
                    except (BrokenPipeError, ConnectionResetError):
                        # The client gave up waiting (its timeout): the
                        # request is kept with the answer it would have had.
                        self.close_connection = True

            def read_body(self):
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(chunks)
                        if len(chunks) + size > MAX_BODY:
                            raise Refusal(413, "body over the stand-in's 64 MiB")
                        chunks += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise Refusal(413, "body over the stand-in's 64 MiB")
                return self.rfile.read(length)

            def serve(self):
                try:
                    raw = self.read_body()
                except Refusal as refusal:
                    self.close_connection = True
                    self.send(Answer(refusal.status, refusal.reason))
                    return
                if self.path.startswith("/_standin/"):
                    self.send(stand.control(self.command, self.path, raw))
                    return
                headers = {}
                for name, value in self.headers.items():
                    key = name.lower()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                request = Request(self.command, self.path, headers, raw)
                self.send(stand.answer(request))

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = serve

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request):
        refusal = None
        try:
            request.body = decode_body(request.raw, request.header("content-encoding"))
            answer = self.vendor.handle(request)
        except Refusal as refused:
            refusal = refused.reason
            answer = Answer(refused.status, refused.body if refused.body is not None else {"error": refused.reason})
        except Exception as error:  # a defect of the stand-in itself: say so loudly
            refusal = f"stand-in error: {type(error).__name__}: {error}"
            answer = Answer(500, refusal)
        with self.lock:
            if self.scripted:
                scripted = self.scripted.pop(0)
                answer = Answer(scripted.get("status", 200), scripted.get("body", b""),
                                list((scripted.get("headers") or {}).items()))
            self.kept.append({
                "method": request.method, "target": request.target, "headers": request.headers,
                "raw": request.raw, "body": request.body, "status": answer.status, "refusal": refusal,
            })
        return answer

    def control(self, method, path, raw):
        try:
            if method == "GET" and path == "/_standin/received":
                with self.lock:
                    listed = [dict(entry, raw=None, body=base64.b64encode(entry["body"] or b"").decode(),
                                   rawBytes=len(entry["raw"])) for entry in self.kept]
                for entry in listed:
                    del entry["raw"]
                return Answer(200, listed)
            settings = json.loads(raw or b"{}")
            if method == "POST" and path == "/_standin/script":
                self.script(settings.get("answers", []))
                return Answer(204)
            if method == "POST" and path == "/_standin/configure":
                self.configure(settings)
                return Answer(204)
            if method == "POST" and path == "/_standin/reset":
                with self.lock:
                    self.kept.clear()
                return Answer(204)
        except Refusal as refusal:
            return Answer(refusal.status, {"error": refusal.reason})
        except ValueError as error:
            return Answer(400, {"error": f"control body is not JSON: {error}"})
        return Answer(404, {"error": f"no control {method} {path}"})

    def received(self):
        """Every request kept: dicts of method, target, headers, raw, body, status, refusal."""
        with self.lock:
            return list(self.kept)

    def refusals(self):
        with self.lock:
            return [(entry["method"], entry["target"], entry["refusal"]) for entry in self.kept if entry["refusal"]]

    def script(self, answers):
        with self.lock:
            self.scripted.extend(answers)

    def configure(self, settings):
        self.vendor.configure(settings)


def start(vendor, port=0):
    """A started stand-in for `vendor`, serving on a thread of this process."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    return StandIn(vendor, port).start()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: standin.py VENDOR")
    # The vendor modules import `standin`: run as that module, not as
    # `__main__`, so that there is one `Refusal` class.
    sys.path.insert(0, HERE)
    import standin

    stand = standin.start(sys.argv[1])
    print(json.dumps({"port": stand.port}), flush=True)
    # Serves until the parent closes our standard input (or dies).
    sys.stdin.buffer.read()
    stand.stop()


if __name__ == "__main__":
    main()
