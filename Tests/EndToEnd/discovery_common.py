"""What the discovery checks share: an OpenAPI document against a
reference written by hand from a server's code.

A reference maps path -> method -> {"parameters": {name: (in, required,
type)}, "request": {field: (type, required[, item fields])} or None,
"responses": {status: fields, None (no body) or "any"}}, or "any" for an
operation whose shapes are the caller's."""
import json
import os
import time
import urllib.request


def learnt_document(port, calls, work, log):
    """The document at /_apimetrics/openapi.json once the sender has read
    at least CALLS calls (or ten seconds passed), saved in WORK, checked by
    openapi-spec-validator; returns it."""
    document = {}
    for _ in range(100):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_apimetrics/openapi.json", timeout=10) as response:
            document = json.load(response)
        figures = document.get("x-apimetrics", {})
        if figures.get("learnt_calls", 0) + figures.get("sampled_out_calls", 0) >= calls:
            break
        time.sleep(0.1)
    with open(os.path.join(work, "openapi.json"), "w") as handle:
        json.dump(document, handle, indent=2)
    from openapi_spec_validator import validate
    validate(document)
    log("the document is valid OpenAPI 3.1 (openapi-spec-validator)")
    return document


def schema_type(schema):
    kind = schema.get("type")
    return kind if isinstance(kind, str) else tuple(kind or ())


def compare_fields(where, schema, expected, differences):
    """Fields of an object schema against (type, required[, items])."""
    if expected == "any":
        return
    if expected is None:
        return
    if schema_type(schema) != "object":
        differences.append(f"{where}: type {schema_type(schema)!r}, expected object")
        return
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name, spec in expected.items():
        if name not in properties:
            differences.append(f"{where}.{name}: missing")
            continue
        kind, is_required = spec[0], spec[1]
        if schema_type(properties[name]) != kind:
            differences.append(f"{where}.{name}: type {schema_type(properties[name])!r}, expected {kind!r}")
        if (name in required) != is_required:
            differences.append(f"{where}.{name}: required {name in required}, expected {is_required}")
        if len(spec) > 2:
            compare_fields(f"{where}.{name}[]", properties[name].get("items", {}), spec[2], differences)
    for name in properties:
        if name not in expected:
            differences.append(f"{where}.{name}: not in the demo's code")


def compare(document, REFERENCE):
    differences = []
    paths = document.get("paths", {})
    for path in sorted(set(paths) | set(REFERENCE)):
        if path not in REFERENCE:
            differences.append(f"{path}: not a route of the demo")
            continue
        if path not in paths:
            differences.append(f"{path}: missing")
            continue
        for method in sorted(set(paths[path]) | set(REFERENCE[path])):
            where = f"{method.upper()} {path}"
            if method not in REFERENCE[path]:
                differences.append(f"{where}: not a route of the demo")
                continue
            if method not in paths[path]:
                differences.append(f"{where}: missing")
                continue
            found, expected = paths[path][method], REFERENCE[path][method]
            if expected == "any":
                continue
            parameters = {p["name"]: p for p in found.get("parameters", [])}
            for name in sorted(set(parameters) | set(expected["parameters"])):
                if name not in expected["parameters"]:
                    differences.append(f"{where}: parameter {name} not in the demo's code")
                    continue
                if name not in parameters:
                    differences.append(f"{where}: parameter {name} missing")
                    continue
                location, required, kind = expected["parameters"][name]
                p = parameters[name]
                if (p["in"], p["required"], schema_type(p["schema"])) != (location, required, kind):
                    differences.append(f"{where}: parameter {name} is {(p['in'], p['required'], schema_type(p['schema']))}, expected {(location, required, kind)}")
            body = found.get("requestBody")
            if expected["request"] is None and body is not None:
                differences.append(f"{where}: a request body the demo does not read")
            if expected["request"] is not None:
                schema = ((body or {}).get("content", {}).get("application/json") or {}).get("schema")
                if schema is None:
                    differences.append(f"{where}: request body missing")
                else:
                    # The demo's 400 cases send other shapes on purpose: compare the fields the handler reads.
                    properties = {k: v for k, v in schema.get("properties", {}).items() if k in expected["request"]}
                    compare_fields(f"{where} request", dict(schema, properties=properties, type="object"), expected["request"], differences)
            responses = found.get("responses", {})
            for status in sorted(set(int(s) for s in responses) | set(expected["responses"])):
                if status not in expected["responses"]:
                    differences.append(f"{where}: status {status} not in the demo's code")
                    continue
                if str(status) not in responses:
                    differences.append(f"{where}: status {status} missing")
                    continue
                content = responses[str(status)].get("content", {})
                spec = expected["responses"][status]
                if spec is None:
                    if "application/json" in content:
                        differences.append(f"{where} {status}: a JSON body the code does not send")
                    continue
                if spec == "any":
                    continue
                schema = (content.get("application/json") or {}).get("schema")
                if schema is None:
                    differences.append(f"{where} {status}: JSON body missing (content {sorted(content)})")
                    continue
                compare_fields(f"{where} {status}", schema, spec, differences)
    return differences
