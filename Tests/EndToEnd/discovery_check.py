"""API discovery through the demo, as a user runs it: mixed traffic, then
the document at /_apimetrics/openapi.json is

1. valid OpenAPI 3.1 for a real validator (openapi-spec-validator);
2. the demo's API as its code defines it (REFERENCE below, written by hand
   from Examples/DemoServer/DemoAPI.swift): every route, method, path and
   query parameter, status, and body field with its type and requiredness;
   every difference is listed;
3. free of every value sent: secrets and unique strings in bodies, queries
   and headers are searched for in the document and in the store's file.

4. kept in the store: after the demo stops, `apimetrics openapi STORE`
   writes the same operations (JSON and YAML, both valid), and the change
   log at /_apimetrics/api/v1/changes named every endpoint as new.

usage: discovery_check.py DEMO APIMETRICS
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import call, start_demo  # noqa: E402
from discovery_common import compare as compare_with, learnt_document  # noqa: E402

DEMO, CLI = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="apimetrics-discovery-check-")
TOOL = "discovery-check"

ORDER = {"id": ("integer", True), "item": ("string", True), "quantity": ("integer", True), "status": ("string", True)}
ERROR = {"error": ("string", True)}

# path -> method -> what the demo's code defines. Parameters: name ->
# (in, required, type). Bodies: field -> (type, required); "array of"
# fields give their items' fields. Statuses: status -> body fields (None:
# no JSON body described).
# GET /health is one of the paths left out of the log by default (probes),
# so discovery never sees it: it is not in the document.
REFERENCE = {
    "/orders": {
        "get": {
            "parameters": {"page": ("query", False, "integer")},
            "request": None,
            "responses": {200: {"page": ("integer", True), "orders": ("array", True, ORDER)}},
        },
        "post": {
            "parameters": {},
            "request": {"item": ("string", True), "quantity": ("integer", True)},
            "responses": {
                201: ORDER,
                400: ERROR,
                422: {"errors": ("array", True, {"field": ("string", True), "type": ("string", True), "message": ("string", True)})},
            },
        },
    },
    "/orders/{id}": {
        "get": {"parameters": {"id": ("path", True, "integer")}, "request": None, "responses": {200: ORDER, 404: ERROR}},
        "delete": {"parameters": {"id": ("path", True, "integer")}, "request": None, "responses": {204: None}},
    },
    "/login": {
        "post": {
            "parameters": {},
            "request": {"username": ("string", True), "password": ("string", True)},
            "responses": {200: {"token": ("string", True)}, 400: ERROR},
        }
    },
    "/slow": {"get": {"parameters": {"ms": ("query", True, "integer")}, "request": None, "responses": {200: {"slept_ms": ("integer", True)}}}},
    "/fail": {"get": {"parameters": {}, "request": None, "responses": {500: "any"}}},
    "/account/plan": {
        "put": {
            "parameters": {},
            "request": {"plan": ("string", True), "status": ("string", True)},
            "responses": {200: {"plan": ("string", True), "status": ("string", True)}, 401: ERROR},
        }
    },
    # Echoes whatever it is sent: present, its shapes are the caller's.
    "/echo": {"post": "any"},
    "/proxy": {"get": {"parameters": {"to": ("query", True, "string")}, "request": None, "responses": {200: {"status": ("string", True)}}}},
}

SECRETS = [f"Sx{n}q{os.urandom(8).hex()}" for n in range(12)]


def log(message):
    print(f"{TOOL}: {message}", flush=True)


def send(port, conforming_only=False):
    """The demo's API, each route with the statuses its code gives; with
    CONFORMING_ONLY, without the calls whose request breaks the API (a
    body that is not an object)."""
    sent = []

    def go(method, path, body=None, headers=None):
        if conforming_only and isinstance(body, list):
            return
        data = None if body is None else json.dumps(body).encode()
        all_headers = dict(headers or {})
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        sent.append((method, path, call(port, method, path, all_headers, data)))

    # Twice: a name is described from its second call on (one seen once may be a client's made-up value).
    for _ in range(2):
        go("GET", "/health")
        for page in (1, 2):
            go("GET", f"/orders?page={page}")
        go("GET", "/orders")
        for n, secret in enumerate(SECRETS[:4]):
            go("POST", "/orders", {"item": secret, "quantity": n + 1}, {"X-Api-Key": f"demo-key-{secret}"})
        go("POST", "/orders", {"item": SECRETS[4], "quantity": 5000})
        go("POST", "/orders", ["not", "an", "object"])
        go("GET", "/orders/1")
        go("GET", "/orders/2")
        go("GET", "/orders/999999")
        go("DELETE", "/orders/3")
        go("POST", "/login", {"username": SECRETS[5], "password": SECRETS[6]})
        go("POST", "/login", {"username": "ada", "password": SECRETS[7]})
        go("POST", "/login", ["nothing"])
        go("GET", "/slow?ms=1")
        go("GET", "/fail")
        go("PUT", "/account/plan", {"plan": "pro", "status": "active"}, {"X-API-Key": "demo-key-ada"})
        go("PUT", "/account/plan", {"plan": SECRETS[8], "status": "active"}, {"X-API-Key": "wrong"})
        go("GET", "/proxy?to=/health")
        # /echo sends back what it gets: the values that must not reach the document, in every place.
        go("POST", f"/echo?token={SECRETS[9]}", {"secret": SECRETS[9], "list": [SECRETS[10]], SECRETS[11]: 1},
           {"Authorization": f"Bearer {SECRETS[10]}", "X-Trace-Note": SECRETS[11]})
    return sent


def compare(document):
    return compare_with(document, REFERENCE)


def main():
    env = {"APIMETRICS_STORE": os.path.join(WORK, "apimetrics.sqlite"), "APIMETRICS_LOG_BODY": "true",
           "APIMETRICS_METRICS_INTERVAL_S": "1"}
    process, port, out, err = start_demo(DEMO, env, WORK, "demo", TOOL)
    try:
        sent = send(port)
        log(f"{len(sent)} calls sent to {len(REFERENCE)} routes")
        # The proxy's own call to /health is left out of the log: one fewer.
        document = learnt_document(port, len(sent) - 1, WORK, log)
        differences = compare(document)
        if differences:
            print("FAILED: the document differs from the demo's code:\n  " + "\n  ".join(differences))
            print(f"(the document: {os.path.join(WORK, 'openapi.json')})")
            sys.exit(1)
        log("every route, method, parameter, status and body field matches the demo's code")
        text = json.dumps(document)
        leaked = [secret for secret in SECRETS if secret in text]
        if leaked:
            print(f"FAILED: values sent reached the document: {leaked}")
            sys.exit(1)
        log(f"none of the {len(SECRETS)} secrets sent is in the document")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_apimetrics/api/v1/changes?range=1h&limit=200", timeout=10) as response:
            changes = json.load(response)["changes"]
        new = {c["route"] for c in changes if c["kind"] == "new_endpoint"}
        expected = {path.replace("{id}", "{id}") for path in REFERENCE}
        if not expected <= new:
            print(f"FAILED: the change log names as new {sorted(new)}, expected at least {sorted(expected)}")
            sys.exit(1)
        if any(not c["example_call"] or not c["time"] for c in changes):
            print(f"FAILED: a change without its time or example call: {changes}")
            sys.exit(1)
        log(f"the change log names the {len(expected)} endpoints as new, each with its time and an example call")
    finally:
        process.terminate()
        process.wait(timeout=30)
    store = os.path.join(WORK, "apimetrics.sqlite")
    from openapi_spec_validator import validate
    stored = json.loads(subprocess.run([CLI, "openapi", store, "--title", "demo"], check=True, capture_output=True, text=True).stdout)
    validate(stored)
    if set(stored["paths"]) != set(document["paths"]) or compare(stored):
        print(f"FAILED: the stored document differs: {sorted(stored['paths'])} vs {sorted(document['paths'])}; {compare(stored)}")
        sys.exit(1)
    import yaml
    as_yaml = yaml.safe_load(subprocess.run([CLI, "openapi", store, "--format", "yaml"], check=True, capture_output=True, text=True).stdout)
    validate(as_yaml)
    if as_yaml["paths"] != stored["paths"]:
        print("FAILED: the YAML document is not the JSON one")
        sys.exit(1)
    log("apimetrics openapi reads the same document back from the stopped demo's store, as JSON and as YAML (both valid)")
    import sqlite3
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = [bytes(r[0]) for r in db.execute("SELECT shape FROM api_operations")]
        rows += ["|".join(map(str, r)).encode() for r in db.execute("SELECT * FROM api_changes")]
    leaked = [secret for secret in SECRETS if any(secret.encode() in row for row in rows)]
    if leaked or not rows:
        print(f"FAILED: values sent are in the store's discovery tables: {leaked} ({len(rows)} rows)")
        sys.exit(1)
    log(f"none of the secrets is in the store's api_operations and api_changes ({len(rows)} rows)")
    log("passed")


if __name__ == "__main__":
    main()
