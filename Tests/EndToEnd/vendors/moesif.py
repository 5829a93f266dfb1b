"""Moesif's collector API (api.moesif.net/v1), strict.

What it checks, from Moesif/apidocs (source/includes/collector-api/*.md,
_errors.md "Limits and Restrictions") and the SDKs' models:
- every request carries `X-Moesif-Application-Id` (401 without it, or with
  another id than the one configured);
- POST bodies are JSON (`Content-Type: application/json`), gzip'd or not;
- /v1/events (one event) and /v1/events/batch (an array) against
  schemas/moesif-event.json: required fields, types, `transaction_id` a
  36-character UUID, `direction` and `transfer_encoding` enums, a json
  body an object or array, a base64 body base64, `ip_address` an IP;
- limits: a batch at most 50 MB before compression ("regardless if
  compression is used"), one event at most 1 MB (Moesif truncates such an
  event's bodies with a warning in its app; the stand-in refuses it, since
  we never mean to send one), at most 500 query parameters in `uri`, no
  event older than 30 days; at most `max_events` events a batch (200 by
  default: the SDKs' batch size, not a documented Moesif limit);
- /v1/users[/batch], /v1/companies[/batch], /v1/subscriptions[/batch]
  against their schemas; a subscription's `status` one of Moesif's seven,
  required by POST /v1/subscriptions;
- GET /v1/config answers the sampling configuration with
  `X-Moesif-Config-ETag`; every events answer names the ETag in force, so
  `configure({"config": {...}, "etag": "..."})` makes a client read it again.

Answers: 201 with an empty body for what it takes (the SDKs accept any
2xx); 400 with `{"moesif_error": ...}` for a malformed payload, 401 for the
application id, 413 past a size limit, 405 for another method, 404 for
another path. Moesif's docs name the statuses (_errors.md) but not their
bodies; the body here is the stand-in's, with the reason.

Settings (`configure`): `application_id` (the only id taken; any non-empty
id by default), `config` (the /v1/config document), `etag`, `max_events`.
"""
import datetime
import json
import re
from urllib.parse import parse_qsl, urlsplit

from standin import Answer, Vendor

MAX_BATCH_BYTES = 50 * 1000 * 1000
MAX_EVENT_BYTES = 1000 * 1000
MAX_QUERY_PARAMETERS = 500
MAX_AGE = datetime.timedelta(days=30)

SCHEMAS = {
    "/v1/events": "moesif-event.json",
    "/v1/events/batch": "moesif-events-batch.json",
    "/v1/users": "moesif-user.json",
    "/v1/users/batch": "moesif-users-batch.json",
    "/v1/companies": "moesif-company.json",
    "/v1/companies/batch": "moesif-companies-batch.json",
    "/v1/subscriptions": "moesif-subscription-single.json",
    "/v1/subscriptions/batch": "moesif-subscriptions-batch.json",
}


def error(code, message):
    return {"moesif_error": {"code": code, "src": "standin", "msg": [message]}}


def parse_time(text):
    """Moesif's times: ISO 8601, UTC when no zone is given."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", text)
    if not match:
        return None
    base = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    fraction = match.group(2) or ".0"
    base += datetime.timedelta(microseconds=int(round(float("0" + fraction) * 1e6)))
    zone = match.group(3)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        base -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return base.replace(tzinfo=datetime.timezone.utc)


class Stand(Vendor):
    name = "moesif"

    def __init__(self):
        super().__init__()
        self.application_id = None
        self.config = {"sample_rate": 100, "user_sample_rate": {}, "company_sample_rate": {},
                       "user_rules": {}, "company_rules": {}, "regex_config": []}
        self.etag = "standin-config-1"
        self.max_events = 200

    def configure(self, settings):
        with self.lock:
            if "application_id" in settings:
                self.application_id = settings["application_id"]
            if "config" in settings:
                self.config = settings["config"]
            if "etag" in settings:
                self.etag = settings["etag"]
            if "max_events" in settings:
                self.max_events = int(settings["max_events"])

    def handle(self, request):
        app_id = request.header("x-moesif-application-id")
        if not app_id or not app_id.strip() or "\n" in app_id:
            self.refuse(401, "no X-Moesif-Application-Id header", error("auth.MissingApplicationId", "Missing X-Moesif-Application-Id"))
        if self.application_id is not None and app_id != self.application_id:
            self.refuse(401, f"X-Moesif-Application-Id {app_id[:40]!r} is not the application's",
                        error("auth.InvalidApplicationId", "Invalid X-Moesif-Application-Id"))
        etag = [("X-Moesif-Config-ETag", self.etag), ("X-Moesif-Rules-Tag", "standin-rules-1")]
        if request.path == "/v1/config":
            if request.method != "GET":
                self.refuse(405, f"{request.method} /v1/config", error("request.MethodNotAllowed", "GET only"))
            return Answer(200, self.config, etag)
        if request.path == "/v1/rules":
            return Answer(200, [], etag)
        schema = SCHEMAS.get(request.path)
        if schema is None:
            self.refuse(404, f"no endpoint {request.path}", error("request.NotFound", "Not Found"))
        if request.method != "POST":
            self.refuse(405, f"{request.method} {request.path}", error("request.MethodNotAllowed", "POST only"))
        content_type = (request.header("content-type") or "").lower()
        if not content_type.startswith("application/json"):
            self.refuse(406, f"Content-Type {content_type!r} is not application/json",
                        error("request.NotAcceptable", "JSON only"))
        if len(request.body) > MAX_BATCH_BYTES:
            self.refuse(413, f"{len(request.body)} bytes, over Moesif's {MAX_BATCH_BYTES} per batch",
                        error("request.TooLarge", "The maximum batch size is 50MB"))
        document = request.json()
        problem = self.check(document, schema)
        if problem:
            self.refuse(400, problem, error("request.InvalidBody", problem))
        if request.path.startswith("/v1/events"):
            events = document if isinstance(document, list) else [document]
            if len(events) > self.max_events:
                self.refuse(413, f"{len(events)} events in one batch, over {self.max_events}",
                            error("request.TooLarge", "Too many events"))
            now = datetime.datetime.now(datetime.timezone.utc)
            for index, event in enumerate(events):
                self.check_event(index, event, now)
        return Answer(201, b"", etag)

    def check_event(self, index, event, now):
        size = len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode())
        if size > MAX_EVENT_BYTES:
            self.refuse(413, f"event {index}: {size} bytes, over Moesif's {MAX_EVENT_BYTES} per event",
                        error("request.TooLarge", "The maximum size of an event is 1MB"))
        request = event["request"]
        started = parse_time(request["time"])
        if started is None or now - started > MAX_AGE:
            self.refuse(400, f"event {index}: request.time {request['time']} is older than 30 days",
                        error("request.TooOld", "Events older than 30 days are rejected"))
        query = urlsplit(request["uri"]).query
        count = len(parse_qsl(query, keep_blank_values=True))
        if count > MAX_QUERY_PARAMETERS:
            self.refuse(400, f"event {index}: {count} query parameters in request.uri, over Moesif's {MAX_QUERY_PARAMETERS}",
                        error("request.InvalidBody", "At most 500 query parameters"))
