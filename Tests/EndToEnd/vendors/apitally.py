"""Apitally's hub as its SDKs meet it (apitally-py client/client_threading.py,
client_asyncio.py, request_logging.py; apitally-js src/common/client.ts):

- `POST /v2/{client_id}/{env}/startup` and `/sync`: a JSON document checked
  against schemas/apitally-startup.json and apitally-sync.json (written from
  the SDKs' payload builders: every field, its type, UUIDs, the 128/64
  character consumer limits, the 2,048/65,536 message and traceback limits,
  statuses 100-599);
- `POST /v2/{client_id}/{env}/log?uuid=...`: a gzip file (no
  Content-Encoding) of at most 1,000,000 bytes, NDJSON inside, each line
  checked against apitally-log-item.json, each body base64 of at most
  50,000 bytes.

`client_id` must be a UUID and `env` 1 to 32 of `[A-Za-z0-9_-]` (the SDKs'
`validate_client_id` / `validate_env`); the hub answers 422 (FastAPI's
`{"detail": [...]}`) for a malformed path or document, 404 for a client ID
it does not know (`configure({"known_client_ids": [...]})`; any is known by
default), 413 for a log file over 1 MB. The 402 with `Retry-After` the hub
sends when the plan's log quota is spent is a scripted answer
(`script([...])`). Accepted requests get 202.

What the hub really answers beyond 404, 422 and 402 is not public; the
SDKs treat those three specially, and every other refusal as "try again".
"""
import base64
import binascii
import json
import re
import uuid
import zlib

from standin import Answer, Vendor

PATH = re.compile(r"^/v2/([^/]+)/([^/]+)/(startup|sync|log)$")
ENV = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_LOG_FILE = 1_000_000
MAX_BODY = 50_000
MAX_UNCOMPRESSED = 64 * 1024 * 1024


def detail(loc, msg, kind="value_error"):
    return {"detail": [{"loc": loc, "msg": msg, "type": kind}]}


class Stand(Vendor):
    name = "apitally"

    def __init__(self):
        super().__init__()
        self.known = None

    def configure(self, settings):
        if "known_client_ids" in settings:
            self.known = {str(c).lower() for c in settings["known_client_ids"]}
        else:
            self.refuse(400, f"apitally has no settings {sorted(settings)}")

    def unprocessable(self, loc, msg):
        self.refuse(422, f"{'.'.join(str(p) for p in loc)}: {msg}", detail(loc, msg))

    def handle(self, request):
        match = PATH.match(request.path)
        if not match:
            self.refuse(404, f"no such hub path {request.path}", {"detail": "Not Found"})
        if request.method != "POST":
            self.refuse(405, f"{request.method} on {request.path}", {"detail": "Method Not Allowed"})
        client_id, env, kind = match.groups()
        try:
            uuid.UUID(client_id)
        except ValueError:
            self.unprocessable(["path", "client_id"], f"not a UUID: {client_id!r}")
        if not ENV.match(env):
            self.unprocessable(["path", "env"], f"must be 1 to 32 letters, digits, _ or -: {env!r}")
        if self.known is not None and client_id.lower() not in self.known:
            self.refuse(404, f"unknown client ID {client_id}", {"detail": "Client not found"})
        if kind == "log":
            return self.log(request)
        content_type = (request.header("content-type") or "").lower()
        if not content_type.startswith("application/json"):
            self.unprocessable(["header", "content-type"], f"a JSON body is expected, got {content_type!r}")
        try:
            document = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            self.unprocessable(["body"], f"not JSON: {error}")
        problem = self.check(document, f"apitally-{kind}.json")
        if problem:
            self.unprocessable(["body"], problem)
        return Answer(202, b"")

    def log(self, request):
        ids = request.query.get("uuid", [])
        if len(ids) != 1:
            self.unprocessable(["query", "uuid"], "exactly one uuid is required")
        try:
            uuid.UUID(ids[0])
        except ValueError:
            self.unprocessable(["query", "uuid"], f"not a UUID: {ids[0]!r}")
        raw = request.raw
        if len(raw) > MAX_LOG_FILE:
            self.refuse(413, f"log file of {len(raw)} bytes is over {MAX_LOG_FILE}", {"detail": "Payload Too Large"})
        if raw[:2] != b"\x1f\x8b":
            self.unprocessable(["body"], "not a gzip file")
        try:
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            text = decompressor.decompress(raw, MAX_UNCOMPRESSED)
            if decompressor.unconsumed_tail:
                self.unprocessable(["body"], f"over {MAX_UNCOMPRESSED} bytes once decompressed")
        except zlib.error as error:
            self.unprocessable(["body"], f"not a gzip file: {error}")
        lines = [line for line in text.split(b"\n") if line.strip()]
        if not lines:
            self.unprocessable(["body"], "no request-log item")
        seen = set()
        for number, line in enumerate(lines):
            try:
                item = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as error:
                self.unprocessable(["body", number], f"not JSON: {error}")
            problem = self.check(item, "apitally-log-item.json")
            if problem:
                self.unprocessable(["body", number], problem)
            if item["uuid"].lower() in seen:
                self.unprocessable(["body", number, "uuid"], f"item {item['uuid']} twice in one file")
            seen.add(item["uuid"].lower())
            for part in ("request", "response"):
                body = item[part].get("body")
                if body is None:
                    continue
                try:
                    decoded = base64.b64decode(body, validate=True)
                except (ValueError, binascii.Error) as error:
                    self.unprocessable(["body", number, part, "body"], f"not base64: {error}")
                if len(decoded) > MAX_BODY:
                    self.unprocessable(["body", number, part, "body"],
                                       f"{len(decoded)} bytes; the SDKs send <body too large> past {MAX_BODY}")
        return Answer(202, b"")
