"""API discovery through a framework example (Hummingbird, Vapor,
FlyingFox), as through the demo: its routes called with every status their
code gives, then /_apimetrics/openapi.json is valid OpenAPI 3.1
(openapi-spec-validator) and matches the example's code, written by hand
below from Examples/APIMetrics*/Sources/*Example/ExampleServer.swift.

usage: discovery_example_check.py hummingbird|vapor|flyingfox EXECUTABLE
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import call, start_demo  # noqa: E402
from discovery_common import compare, learnt_document  # noqa: E402

NAME, EXECUTABLE = sys.argv[1], sys.argv[2]
TOOL = f"discovery-check ({NAME})"
WORK = tempfile.mkdtemp(prefix=f"apimetrics-discovery-{NAME}-")

ORDER = {"id": ("integer", True), "item": ("string", True), "quantity": ("integer", True)}
NEW_ORDER = {"item": ("string", True), "quantity": ("integer", True)}
# The frameworks answer errors with bodies of their own making: checked for
# being there, their shapes are the framework's.
FRAMEWORK_ERROR = "any"

# GET /health is left out of the log by default (probes): not in the document.
COMMON = {
    "/orders/{id}": {"get": {"parameters": {"id": ("path", True, "integer")}, "request": None,
                             "responses": {200: ORDER, 404: FRAMEWORK_ERROR}}},
    "/orders": {"post": {"parameters": {}, "request": NEW_ORDER,
                         "responses": {201: ORDER, 422: FRAMEWORK_ERROR, 400: FRAMEWORK_ERROR}}},
    "/fail": {"get": {"parameters": {}, "request": None, "responses": {500: FRAMEWORK_ERROR}}},
    "/proxy": {"get": {"parameters": {"to": ("query", True, "string")}, "request": None,
                       "responses": {200: ORDER}}},
}
STREAM = {"/stream": {"get": {"parameters": {"chunks": ("query", True, "integer")}, "request": None,
                              "responses": {200: None}}}}
REFERENCES = {"hummingbird": {**COMMON, **STREAM}, "vapor": {**COMMON, **STREAM}, "flyingfox": COMMON}


def log(message):
    print(f"{TOOL}: {message}", flush=True)


def send(port):
    sent = []

    def go(method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        sent.append((method, path, call(port, method, path, headers, data)))

    # Twice: a name is described from its second call on.
    for _ in range(2):
        for quantity in (1, 2):
            go("POST", "/orders", {"item": "tea", "quantity": quantity})
        go("POST", "/orders", {"item": "tea", "quantity": 5000})
        go("POST", "/orders", ["not", "an", "object"])
        go("GET", "/orders/1")
        go("GET", "/orders/999999")
        go("GET", "/fail")
        go("GET", "/proxy?to=/orders/1")
        if "/stream" in REFERENCES[NAME]:
            go("GET", "/stream?chunks=2")
    return sent


def main():
    env = {"APIMETRICS_STORE": os.path.join(WORK, "apimetrics.sqlite"), "APIMETRICS_LOG_BODY": "true",
           "APIMETRICS_DASHBOARD": "1"}
    process, port, out, err = start_demo(EXECUTABLE, env, WORK, NAME, TOOL)
    try:
        sent = send(port)
        statuses = sorted({(m, p.split("?")[0], s) for m, p, s in sent})
        log(f"{len(sent)} calls sent: {statuses}")
        document = learnt_document(port, len(sent), WORK, log)
        differences = compare(document, REFERENCES[NAME])
        if differences:
            print(f"FAILED: the document differs from the example's code:\n  " + "\n  ".join(differences))
            print(f"(the document: {os.path.join(WORK, 'openapi.json')})")
            sys.exit(1)
        log("every route, method, parameter, status and body field matches the example's code")
    finally:
        process.terminate()
        process.wait(timeout=30)
    log("passed")


main()
