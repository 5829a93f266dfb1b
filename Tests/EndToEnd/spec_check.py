"""Shadow validation through the demo, as a user runs it
(APIMETRICS_OPENAPI_SPEC): the demo's API as its code defines it
(discovery_check.REFERENCE, written by hand) is the OpenAPI 3.0 spec the
demo ships (Examples/DemoServer/openapi.yaml, which must equal it), checked
by a real validator (openapi-spec-validator), then

1. with that spec (YAML), the demo's conforming traffic: /_apimetrics/spec.json
   reports every call conforming, no finding and no difference, and
   `apimetrics openapi --diff SPEC STORE` agrees (exit 0);
2. with a copy (JSON) holding deliberate mismatches, the same traffic:
   each mismatch is reported once, with its rule and place, a count, its
   first-seen time and an example call that is in the store; the
   differences are exactly the ones made; Prometheus counts them; no value
   sent is in the report; `apimetrics openapi --diff` prints each and
   exits 3.

usage: spec_check.py DEMO APIMETRICS
"""
import copy
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_process import start_demo  # noqa: E402
from discovery_check import REFERENCE, SECRETS, send  # noqa: E402

DEMO, CLI = sys.argv[1], sys.argv[2]
TOOL = "spec-check"
import tempfile  # noqa: E402
WORK = tempfile.mkdtemp(prefix="apimetrics-spec-check-")


def log(message):
    print(f"{TOOL}: {message}", flush=True)


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def object_schema(fields):
    properties, required = {}, []
    for name, field in fields.items():
        kind, is_required = field[0], field[1]
        properties[name] = {"type": "array", "items": object_schema(field[2])} if kind == "array" else {"type": kind}
        if is_required:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def spec_from_reference():
    """The demo's API (REFERENCE) as an OpenAPI 3.0 document."""
    paths = {}
    for path, methods in REFERENCE.items():
        item = paths.setdefault(path, {})
        for method, operation in methods.items():
            if operation == "any":
                # /echo answers what it is sent; its query is its caller's too.
                item[method] = {
                    "parameters": [{"name": "token", "in": "query", "schema": {"type": "string"}}],
                    "requestBody": {"content": {"*/*": {}}},
                    "responses": {"default": {"description": "what was sent", "content": {"*/*": {}}}},
                }
                continue
            spec = {"responses": {}}
            parameters = [{"name": name, "in": place, "required": required, "schema": {"type": kind}}
                          for name, (place, required, kind) in operation["parameters"].items()]
            if parameters:
                spec["parameters"] = parameters
            if operation["request"] is not None:
                spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": object_schema(operation["request"])}}}
            for status, body in operation["responses"].items():
                response = {"description": f"status {status}"}
                if body == "any":
                    response["content"] = {"*/*": {}}
                elif body is not None:
                    response["content"] = {"application/json": {"schema": object_schema(body)}}
                spec["responses"][str(status)] = response
            item[method] = spec
    return {"openapi": "3.0.3", "info": {"title": "Demo", "version": "1"}, "paths": paths}


def mismatched(spec):
    """A copy with deliberate mismatches; returns it, the findings and the differences they must give."""
    spec = copy.deepcopy(spec)
    paths = spec["paths"]
    del paths["/fail"]
    paths["/orders/{id}"]["patch"] = {"parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                                      "responses": {"200": {"description": "patched"}}}
    del paths["/orders/{id}"]["get"]["responses"]["404"]
    paths["/orders/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["quantity"] = {"type": "string"}
    made = paths["/orders"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    del made["properties"]["status"]
    made["required"].remove("status")
    paths["/orders"]["get"]["parameters"][0]["schema"]["maximum"] = 1
    paths["/slow"]["get"]["parameters"].append({"name": "verbose", "in": "query", "required": True, "schema": {"type": "boolean"}})
    token = paths["/login"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    token["properties"]["expires_in"] = {"type": "integer"}
    token["required"].append("expires_in")
    paths["/account/plan"]["put"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["plan"]["enum"] = ["free", "team"]
    findings = {
        ("GET", "/fail", "undocumented_operation", ""),
        ("GET", "/orders/{id}", "undocumented_status", "response 404"),
        ("GET", "/orders/{id}", "type", "response 200 application/json $.quantity"),
        ("POST", "/orders", "additional_properties", "response 201 application/json $.status"),
        ("GET", "/orders", "maximum", "query page"),
        ("GET", "/slow", "missing_parameter", "query verbose"),
        ("POST", "/login", "required", "response 200 application/json $.expires_in"),
        ("PUT", "/account/plan", "enum", "request application/json $.plan"),
    }
    differences = {
        ("undocumented_operation", "GET", "/fail", ""),
        ("never_called", "PATCH", "/orders/{id}", ""),
        ("undocumented_status", "GET", "/orders/{id}", "response 404"),
        ("undocumented_field", "POST", "/orders", "response 201 application/json $.status"),
    }
    return spec, findings, differences


def fetch(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


def run(spec_path, name):
    """Runs the demo checking calls against SPEC_PATH; returns the report once every call was checked, and the store's path."""
    store = os.path.join(WORK, f"{name}.sqlite")
    env = {"APIMETRICS_STORE": store, "APIMETRICS_LOG_BODY": "true", "APIMETRICS_METRICS_INTERVAL_S": "1",
           "APIMETRICS_OPENAPI_SPEC": spec_path, "APIMETRICS_PROMETHEUS": "1"}
    process, port, out, err = start_demo(DEMO, env, WORK, name, TOOL)
    try:
        sent = send(port, conforming_only=True)
        # Every call but the probes of /health (left out of the log) is checked.
        expected = len([call for call in sent if call[1] != "/health"])
        report = {}
        for _ in range(100):
            report = json.loads(fetch(port, "/_apimetrics/spec.json"))
            if report.get("calls", {}).get("checked", 0) >= expected:
                break
            time.sleep(0.1)
        exposition = fetch(port, "/metrics")
        # The findings reach the store with the next metrics window.
        time.sleep(1.5)
    finally:
        process.terminate()
        process.wait(timeout=30)
    with open(os.path.join(WORK, f"{name}-report.json"), "w") as handle:
        json.dump(report, handle, indent=2)
    return report, exposition, store, len(sent)


def main():
    from openapi_spec_validator import validate
    import yaml
    spec = spec_from_reference()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    conforming_path = os.path.join(root, "Examples", "DemoServer", "openapi.yaml")
    with open(conforming_path) as handle:
        shipped = yaml.safe_load(handle)
    shipped["info"].pop("description", None)
    if shipped != spec:
        fail("Examples/DemoServer/openapi.yaml is not the demo's reference (REFERENCE in discovery_check.py): regenerate it")
    validate(shipped)
    wrong, expected_findings, expected_differences = mismatched(spec)
    validate(wrong)
    wrong_path = os.path.join(WORK, "demo-spec-mismatched.json")
    with open(wrong_path, "w") as handle:
        json.dump(wrong, handle, indent=2)
    log("the demo's spec (Examples/DemoServer/openapi.yaml) is its reference, and it and a mismatched copy (JSON) are valid"
        " (openapi-spec-validator)")

    report, _, store, sent = run(conforming_path, "conforming")
    calls = report.get("calls", {})
    if report.get("findings") or report.get("differences") or calls.get("violating") or not calls.get("checked"):
        fail(f"conforming traffic was reported: {json.dumps(report)[:2000]}")
    log(f"conforming traffic: {calls['checked']} calls checked, {calls['conforming']} conforming, no finding, no difference")
    diff = subprocess.run([CLI, "openapi", "--diff", conforming_path, store], capture_output=True, text=True)
    if diff.returncode != 0 or "The API and the spec agree." not in diff.stdout:
        fail(f"apimetrics openapi --diff on the conforming run: exit {diff.returncode}\n{diff.stdout}{diff.stderr}")
    log("apimetrics openapi --diff agrees (exit 0)")

    report, exposition, store, sent = run(wrong_path, "mismatched")
    found = {(f["method"], f["path"], f["rule"], f["location"]) for f in report.get("findings", [])}
    if found != expected_findings:
        fail(f"findings differ:\n  missing {sorted(expected_findings - found)}\n  unexpected {sorted(found - expected_findings)}")
    differences = {(d["kind"], d["method"], d["path"], d["location"]) for d in report.get("differences", [])}
    if differences != expected_differences:
        fail(f"differences differ:\n  missing {sorted(expected_differences - differences)}\n  unexpected {sorted(differences - expected_differences)}")
    for finding in report["findings"]:
        if finding["count"] < 1 or not finding["first_seen"] or len(finding["example_call"]) != 32:
            fail(f"a finding without its count, time or example call: {finding}")
    log(f"each of the {len(expected_findings)} deliberate mismatches is reported, with its rule, place, count, time and example call;"
        f" the {len(expected_differences)} differences exactly")
    if 'apimetrics_spec_violations_total{method="GET",route="/orders/{id}",rule="type"}' not in exposition:
        fail("Prometheus does not count the findings")
    text = json.dumps(report)
    leaked = [secret for secret in SECRETS if secret in text]
    if leaked:
        fail(f"values sent reached the report: {leaked}")
    log("Prometheus counts them; no value sent is in the report")
    import sqlite3
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        for (method, path, rule, location) in expected_findings:
            row = db.execute("SELECT example_hi, example_lo FROM spec_findings WHERE method = ? AND path = ? AND rule = ? AND location = ?",
                             (method, path, rule, location)).fetchone()
            if row is None:
                fail(f"the finding {(method, path, rule, location)} is not in the store")
            example = "%016x%016x" % (row[0] & (2**64 - 1), row[1] & (2**64 - 1))
            if db.execute("SELECT count(*) FROM calls WHERE event_hi = ? AND event_lo = ?", row).fetchone()[0] != 1:
                fail(f"the example call {example} of {(method, path, rule)} is not in the store")
        rows = ["|".join(map(str, r)) for r in db.execute("SELECT * FROM spec_findings")]
    leaked = [secret for secret in SECRETS if any(secret in row for row in rows)]
    if leaked:
        fail(f"values sent are in the store's spec_findings: {leaked}")
    log(f"the store holds every finding ({len(rows)} rows), each example call is in its call log, and no value sent")
    diff = subprocess.run([CLI, "openapi", "--diff", wrong_path, store], capture_output=True, text=True)
    if diff.returncode != 3:
        fail(f"apimetrics openapi --diff exits {diff.returncode}, not 3:\n{diff.stdout}{diff.stderr}")
    missing = [f for f in expected_findings if f"{f[0]} {f[1]}  {f[2]}" not in diff.stdout]
    missing += [d for d in expected_differences if f"{d[1]} {d[2]}" not in diff.stdout]
    if missing:
        fail(f"apimetrics openapi --diff does not print {missing}:\n{diff.stdout}")
    log("apimetrics openapi --diff prints each difference and finding and exits 3")
    log("passed")


main()
