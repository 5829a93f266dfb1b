#!/usr/bin/env python3
"""Writes Tests/APIMetricsTests/JSONSchemaSuite.swift from the JSON Schema
Test Suite (https://github.com/json-schema-org/JSON-Schema-Test-Suite).

Not run by CI: run it by hand when the suite is to be refreshed, with the
path of a clone's git directory (the files are read at its HEAD):

    python3 Tests/EndToEnd/schema_suite_extract.py /path/to/JSON-Schema-Test-Suite/.git

Keeps each test group of tests/draft2020-12 whose schema uses only what the
spec validator (Sources/APIMetrics/Discovery/Spec) checks, and the groups of
the seven formats it asserts; every other group is counted by reason in the
Swift file's header. Numbers keep the suite's text (1.0 stays 1.0).
"""

import json
import os
import subprocess
import sys

# The files of the keywords the validator implements, read whole (groups
# are still filtered by what their schemas use).
KEYWORD_FILES = [
    "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems",
    "allOf", "anyOf", "oneOf", "not", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "boolean_schema", "ref", "defs", "default", "infinite-loop-detection",
]
# Files of features out of scope, skipped whole (named in the header).
SKIPPED_FILES = {
    "anchor": "$anchor", "contains": "contains", "content": "contentMediaType/contentEncoding/contentSchema",
    "dependentRequired": "dependentRequired", "dependentSchemas": "dependentSchemas", "dynamicRef": "$dynamicRef",
    "format": "format as an annotation (2020-12's default; the validator asserts five formats, see optional/format)",
    "if-then-else": "if/then/else", "maxContains": "maxContains", "minContains": "minContains",
    "pattern": "pattern", "patternProperties": "patternProperties", "propertyNames": "propertyNames",
    "refRemote": "remote $ref", "unevaluatedItems": "unevaluatedItems",
    "unevaluatedProperties": "unevaluatedProperties", "vocabulary": "$vocabulary",
}
# Optional files about numbers the validator must read exactly (big
# integers, an integer past a Double's exact range), kept as keyword files.
NUMBER_FILES = ["optional/bignum", "optional/float-overflow"]
FORMAT_FILES = ["date-time", "date", "uuid", "email", "uri", "ipv4", "ipv6"]

SCHEMA_MAPS = {"properties", "$defs"}
SCHEMAS = {"additionalProperties", "items", "not"}
SCHEMA_ARRAYS = {"prefixItems", "allOf", "anyOf", "oneOf"}
VALUES = {
    "type", "enum", "const", "required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties",
}
# Keywords that change nothing about validity ($schema's meta-schema is not followed).
ANNOTATIONS = {"title", "description", "$comment", "default", "$schema", "examples", "deprecated"}
# Out of scope: a group using one is left out under this reason.
OUT_OF_SCOPE = {
    "$id": "$id (base URI changes)", "$anchor": "$anchor", "$dynamicRef": "$dynamicRef",
    "$dynamicAnchor": "$dynamicAnchor", "$vocabulary": "$vocabulary",
    "unevaluatedProperties": "unevaluatedProperties", "unevaluatedItems": "unevaluatedItems",
    "patternProperties": "patternProperties", "dependentSchemas": "dependentSchemas",
    "dependentRequired": "dependentRequired", "if": "if/then/else", "then": "if/then/else",
    "else": "if/then/else", "contains": "contains", "minContains": "contains", "maxContains": "contains",
    "propertyNames": "propertyNames", "pattern": "pattern", "format": "format outside optional/format",
    "contentMediaType": "content*", "contentEncoding": "content*", "contentSchema": "content*",
}
# OpenAPI keywords the compiler gives a meaning JSON Schema 2020-12 does not.
OPENAPI_MEANING = {"nullable", "readOnly", "writeOnly", "discriminator", "xml", "externalDocs", "example"}


class Number:
    """A JSON number as the suite writes it."""

    def __init__(self, text):
        self.text = text


def load(git_dir, path):
    text = subprocess.run(["git", "--git-dir", git_dir, "show", "HEAD:" + path],
                          check=True, capture_output=True).stdout.decode("utf-8")
    return json.loads(text, parse_int=Number, parse_float=Number)


def dump(value):
    """Compact JSON with numbers as written and non-ASCII escaped (as on the wire)."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def reason_against(schema):
    """Why a group's schema is out of scope, or None when every keyword in it is checked."""
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return "a schema that is neither an object nor a boolean"
    for key, value in schema.items():
        if key in OUT_OF_SCOPE:
            return OUT_OF_SCOPE[key]
        if key in OPENAPI_MEANING:
            return "keyword %s (OpenAPI gives it a meaning 2020-12 does not)" % key
        if key == "$ref":
            if not isinstance(value, str) or not (value == "#" or value.startswith("#/")):
                return "remote or anchor $ref"
        elif key in SCHEMA_MAPS:
            for sub in value.values():
                found = reason_against(sub)
                if found:
                    return found
        elif key in SCHEMAS:
            found = reason_against(value)
            if found:
                return found
        elif key in SCHEMA_ARRAYS:
            for sub in value:
                found = reason_against(sub)
                if found:
                    return found
        elif key not in VALUES and key not in ANNOTATIONS:
            return "unknown keyword %s" % key
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit("FAILED: usage: schema_suite_extract.py SUITE_GIT_DIR")
    git_dir = sys.argv[1]
    commit = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", "HEAD"],
                            check=True, capture_output=True, text=True).stdout.strip()
    licence = subprocess.run(["git", "--git-dir", git_dir, "show", "HEAD:LICENSE"],
                             check=True, capture_output=True, text=True).stdout.strip()
    lines, excluded, kept_groups, kept_tests, format_tests = [], {}, 0, 0, 0
    for name in KEYWORD_FILES + NUMBER_FILES:
        for group in load(git_dir, "tests/draft2020-12/%s.json" % name):
            reason = reason_against(group["schema"])
            if reason:
                excluded.setdefault(reason, []).append("%s.json: %s" % (name, group["description"]))
                continue
            kept_groups += 1
            for test in group["tests"]:
                kept_tests += 1
                lines.append(case(name + ".json", group, test, "keyword"))
    for name in FORMAT_FILES:
        for group in load(git_dir, "tests/draft2020-12/optional/format/%s.json" % name):
            for test in group["tests"]:
                format_tests += 1
                lines.append(case("optional/format/%s.json" % name, group, test, "format"))
    body = "\n".join(lines)
    hashes = "#"
    while ('"""' + hashes) in body or ("\\" + hashes) in body:
        hashes += "#"

    header = [
        "// Cases from the JSON Schema Test Suite",
        "// (https://github.com/json-schema-org/JSON-Schema-Test-Suite, tests/draft2020-12",
        "// at commit %s), used under its licence, which follows:" % commit,
        "//",
    ]
    header += [("// " + line).rstrip() for line in licence.splitlines()]
    header += [
        "//",
        "// Written by Tests/EndToEnd/schema_suite_extract.py (not run by CI); one",
        "// case a line below: file, group and test description, the group's schema,",
        "// the instance (numbers as the suite writes them) and the suite's verdict.",
        "// What is kept, by rule:",
        "// - \"keyword\" (%d groups, %d cases): every group of the files of the keywords" % (kept_groups, kept_tests),
        "//   the validator checks:",
    ]
    for start in range(0, len(KEYWORD_FILES), 7):
        last = start + 7 >= len(KEYWORD_FILES)
        header.append("//   " + ", ".join(KEYWORD_FILES[start:start + 7]) + ("," if not last else ";"))
    header += [
        "//   and of %s (numbers read exactly)," % " and ".join(name + ".json" for name in NUMBER_FILES),
        "//   whose schema uses only those keywords, local `#` and `#/...` $refs and",
        "//   annotations (title, description, $comment, default, examples, deprecated,",
        "//   $schema, whose meta-schema is not followed). Each case must agree with the suite.",
        "// - \"format\" (%d cases): every case of optional/format/{%s}.json," % (format_tests, ",".join(FORMAT_FILES)),
        "//   the formats discovery recognises. The validator asserts date-time, date,",
        "//   uuid, ipv4 and ipv6 (an OpenAPI choice; email and uri not, see",
        "//   SpecSchemaCompiler): a valid instance must pass; an invalid one may be",
        "//   missed (the test counts those caught).",
    ]
    header.append("// Files left out whole (features out of scope):")
    for name in sorted(SKIPPED_FILES):
        header.append("//   %s.json: %s" % (name, SKIPPED_FILES[name]))
    header.append("// Groups left out of the kept files, by reason:")
    for reason in sorted(excluded):
        header.append("// - %s (%d):" % (reason, len(excluded[reason])))
        for where in excluded[reason]:
            header.append("//   %s" % where)
    header.append("")
    header.append("/// The suite's cases, one JSON object a line: see the comment above.")
    text = "\n".join(header) + "\nlet jsonSchemaSuite = %s\"\"\"\n%s\n\"\"\"%s\n" % (hashes, body, hashes)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "APIMetricsTests", "JSONSchemaSuite.swift")
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print("kept %d groups, %d keyword cases, %d format cases; excluded %d groups; %d bytes" % (
        kept_groups, kept_tests, format_tests, sum(len(v) for v in excluded.values()), len(text.encode())))


def case(file, group, test, kind):
    return '{"kind":%s,"file":%s,"group":%s,"test":%s,"valid":%s,"schema":%s,"data":%s}' % (
        json.dumps(kind), json.dumps(file), json.dumps(group["description"]), json.dumps(test["description"]),
        "true" if test["valid"] else "false", dump(group["schema"]), dump(test["data"]))


if __name__ == "__main__":
    main()
