"""ReadMe Metrics' ingest, `POST /v1/request`, as strict as ReadMe and its
SDKs (readmeio/metrics-sdks) make it; see README-readme.md beside this file.

Checks, in order, each refusal answered with ReadMe's error body
(`error`, `message`, `suggestion`, `docs`, `help`, as ReadMe's API answers
them; the codes other than APIKEY_NOTFOUND are the stand-in's own names):
- the path is /v1/request and the method POST (404 otherwise);
- `Authorization: Basic base64(KEY:)`: the project's API key as the user
  and no password (401 APIKEY_NOTFOUND otherwise; with `configure({"apiKey":
  K})` only K is taken);
- `Content-Type: application/json` and a JSON body (400);
- the body no larger than `configure({"maxBytes": N})`, when set (413):
  ReadMe documents no byte limit, so by default there is none;
- the body against schemas/readme-logs.json: an array of 1 to 30 logs
  (the Node SDK clamps its buffer to 30), each with a UUID `_id`,
  `_version` 3, a group whose id is ReadMe's mask, `clientIPAddress` empty
  or an IPv4/IPv6 address, `development`, and a HAR 1.2 document of one
  entry (schemas/readme-har-1.2.json) (400);
- what every SDK holds to beyond the schema (400): no `OPTIONS` call is
  logged, and a request's `Authorization` header is masked (or redacted).

A request that passes is answered 202 with `OK`. 429 and 5xx answers are
scripted by the tests (`script`), with RATE_LIMITED below as the body.
"""
import base64
import re

from standin import Answer, Vendor

MASK = re.compile(r"^sha512-[A-Za-z0-9+/]{86}==\?[\s\S]{0,4}$")

RATE_LIMITED = {
    "error": "RATE_LIMITED",
    "message": "You have sent too many requests",
    "suggestion": "Wait a little before sending more API logs.",
    "docs": "https://docs.readme.com/main/reference/post_request",
    "help": "If you need help, email support@readme.io.",
}


def error_body(code, message, suggestion):
    return {
        "error": code,
        "message": message,
        "suggestion": suggestion,
        "docs": "https://docs.readme.com/main/reference/post_request",
        "help": "If you need help, email support@readme.io.",
    }


class Stand(Vendor):
    name = "readme"

    def __init__(self):
        super().__init__()
        self.api_key = None
        self.max_bytes = None

    def configure(self, settings):
        with self.lock:
            if "apiKey" in settings:
                self.api_key = settings["apiKey"]
            if "maxBytes" in settings:
                self.max_bytes = settings["maxBytes"]

    def handle(self, request):
        if request.path != "/v1/request" or request.method != "POST":
            self.refuse(404, f"no route {request.method} {request.path}",
                        error_body("ROUTE_NOTFOUND", f"There is no {request.method} {request.path}",
                                   "API logs go to POST /v1/request."))
        self.check_key(request.header("authorization"))
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self.refuse(400, f"Content-Type {request.header('content-type')!r}, not application/json",
                        error_body("LOGS_INVALID", "The body must be JSON", "Send Content-Type: application/json."))
        with self.lock:
            max_bytes = self.max_bytes
        if max_bytes is not None and len(request.body) > max_bytes:
            self.refuse(413, f"body of {len(request.body)} bytes over {max_bytes}",
                        error_body("PAYLOAD_TOO_LARGE", "The request body is too large", "Send fewer logs at a time."))
        try:
            logs = request.json()
        except Exception as error:  # Refusal from request.json(): keep ReadMe's body
            self.refuse(400, str(error), error_body("LOGS_INVALID", "The body is not JSON", "Send an array of logs."))
        if isinstance(logs, list) and len(logs) > 30:
            self.refuse(400, f"{len(logs)} logs in one request; ReadMe's SDKs send 1 to 30",
                        error_body("LOGS_INVALID", "Too many logs in one request", "Send at most 30 logs at a time."))
        problem = self.check(logs, "readme-logs.json") or self.sdk_rules(logs)
        if problem:
            self.refuse(400, problem, error_body("LOGS_INVALID", problem, "Send logs as ReadMe's SDKs build them."))
        return Answer(202, "OK", [("Content-Type", "text/plain; charset=utf-8")])

    def check_key(self, value):
        refusal = error_body(
            "APIKEY_NOTFOUND", "We couldn't find your API key",
            "API keys must be passed in as the username part of basic auth, with no password.")
        scheme, _, token = (value or "").partition(" ")
        if scheme.lower() != "basic":
            self.refuse(401, f"Authorization {value!r} is not Basic", refusal)
        try:
            user, colon, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            self.refuse(401, f"Basic credentials {token!r} are not base64 of UTF-8", refusal)
        if not colon or not user or password:
            self.refuse(401, "Basic credentials are not KEY: (the key as the user, no password)", refusal)
        with self.lock:
            expected = self.api_key
        if expected is not None and user != expected:
            self.refuse(401, "the API key is not the project's", refusal)

    @staticmethod
    def sdk_rules(logs):
        for index, log in enumerate(logs):
            entry = log["request"]["log"]["entries"][0]
            request = entry["request"]
            if request["method"] == "OPTIONS":
                return f"log {index}: an OPTIONS call, which ReadMe's SDKs never log"
            for header in request["headers"]:
                if header["name"].lower() == "authorization":
                    value = header["value"]
                    if not (MASK.match(value) or value.startswith("[REDACTED")):
                        return f"log {index}: the Authorization header goes unmasked"
        return None
