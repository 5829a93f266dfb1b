#!/usr/bin/env python3
"""Writes Tests/APIMetricsTests/YAMLCorpus.swift: documents PyYAML wrote, in
several styles, with the JSON PyYAML reads back from each, for YAMLReader's
tests to compare against.

    python3 Tests/EndToEnd/yaml_corpus.py            # needs PyYAML (pip install pyyaml)

The output is the same for the same PyYAML version (the random documents come
from a fixed seed). PyYAML reads and writes YAML 1.1, YAMLReader YAML 1.2's
core schema; where the two resolve a plain scalar differently (`0o17`, `1e5`,
`.5` are numbers in 1.2 and strings PyYAML writes unquoted) the generator
replaces the string, and it leaves out the characters 1.1 treats as line
breaks (U+0085, U+2028, U+2029) and keys PyYAML would write as `? ` complex
keys (empty, long or multi-line ones).
"""
import json
import os
import random
import re
import sys

import yaml

SEED = 28
DOCUMENTS = 40

TRICKY = [
    "", " ", "  leading", "trailing  ", "a: b", "a:b", "key:", "- item", "-", "?", "? x", ":", "#", "a #b", "a#b",
    "'single'", '"double"', "it's", 'say "hi"', "back\\slash", "tab\there", "new\nline", "two\n\nbreaks",
    "trailing newline\n", "\nleading newline", "  \n  spaced lines  \n", "null", "Null", "~", "true", "False",
    "yes", "no", "on", "off", "y", "n", "123", "-17", "+5", "007", "010", "0x1F", "0o17", "1.5", "1e5", ".5", "1.",
    "-.inf", ".nan", "1_000", "12:30:00", "2001-12-14", "[a, b]", "{a: 1}", "*alias", "&anchor", "!tag", "%percent",
    "@at", "`tick", "|", ">", "a, b", "{", "]", "---", "...", "--- x", "é", "日本語", "emoji 😀", "\u00e9\u0301",
    "ctrl \x01 \x07 \x1b", "del \x7f", "nbsp\u00a0x", "a very long string that goes on and on and on, past any width "
    "the emitter would like to keep its lines to, so that it must fold it somewhere in the middle of the words",
    "http://example.com/path?q=1#frag", "$ref", "#/components/schemas/Pet", "<<", "=", "!!str",
]

WORDS = ["id", "name", "type", "value", "items", "data", "x", "Pet", "200", "404", "true", "null", "a b", "key:",
         "#hash", "", "é", "日本", "'q'", '"dq"', "-", "$ref", "3.0", "0o7", "with space", "x-ext"]


def core12_non_string(s):
    """Whether YAML 1.2's core schema reads the plain scalar as something other than a string."""
    return re.fullmatch(
        r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|"
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|", s) is not None


RESOLVER = yaml.resolver.Resolver()


def safe(s):
    """The string, or a stand-in where PyYAML would write it unquoted and YAML 1.2 would read it as no string."""
    s = s.replace("\x85", "").replace("\u2028", "").replace("\u2029", "").replace("\ufeff", "")
    tag = RESOLVER.resolve(yaml.ScalarNode, s, (True, False))
    if tag == "tag:yaml.org,2002:str" and core12_non_string(s):
        return s + "_"
    return s


def random_string(rng):
    roll = rng.random()
    if roll < 0.45:
        return safe(rng.choice(TRICKY))
    if roll < 0.7:
        return safe(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))))
    alphabet = "abcXYZ019 :#-'\"\\\n\t{}[],&*!|>%@`é日😀\u00a0"
    return safe("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))))


def random_key(rng):
    while True:
        k = random_string(rng) if rng.random() < 0.4 else safe(rng.choice(WORDS))
        if k and "\n" not in k and len(k) < 60:
            return k


def random_number(rng):
    roll = rng.random()
    if roll < 0.4:
        return rng.randint(-1000, 1000)
    if roll < 0.5:
        return rng.randint(-2**70, 2**70)
    if roll < 0.8:
        return round(rng.uniform(-1e4, 1e4), rng.randint(0, 6))
    return rng.choice([0.0, -0.0, 1e-05, 1.5e300, -2.5e-300, 123456789.125, 0.1, 1e20, 3.0])


def random_value(rng, depth):
    roll = rng.random()
    if depth < 6 and roll < 0.3:
        obj = {}
        for _ in range(rng.randint(0, 5)):
            obj[random_key(rng)] = random_value(rng, depth + 1)
        return obj
    if depth < 6 and roll < 0.5:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    if roll < 0.75:
        return random_string(rng)
    if roll < 0.9:
        return random_number(rng)
    return rng.choice([True, False, None])


def deep(rng, depth):
    """A narrow document nested `depth` deep, mappings and sequences in turn."""
    value = random_string(rng)
    for level in range(depth):
        value = {random_key(rng): value, "n": level} if level % 2 == 0 else [value, level]
    return value


PETSTORE = {
    "openapi": "3.0.3",
    "info": {"title": "Swagger Petstore", "version": "1.0.0",
             "description": "A sample API that uses a petstore as an example.\n\nIt has *Markdown*: `code`, # not a comment, key: value.\n",
             "license": {"name": "MIT"}},
    "servers": [{"url": "http://petstore.swagger.io/v1"}],
    "paths": {
        "/pets": {
            "get": {
                "summary": "List all pets", "operationId": "listPets", "tags": ["pets"],
                "parameters": [{"name": "limit", "in": "query", "description": "How many items to return at one time (max 100)",
                                "required": False, "schema": {"type": "integer", "maximum": 100, "format": "int32"}}],
                "responses": {
                    "200": {"description": "A paged array of pets",
                            "headers": {"x-next": {"description": "A link to the next page of responses", "schema": {"type": "string"}}},
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}}},
                    "default": {"description": "unexpected error",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
            "post": {"summary": "Create a pet", "operationId": "createPets", "tags": ["pets"],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                     "responses": {"201": {"description": "Null response"}}},
        },
        "/pets/{petId}": {
            "get": {"summary": "Info for a specific pet", "operationId": "showPetById",
                    "parameters": [{"name": "petId", "in": "path", "required": True, "description": "The id of the pet to retrieve",
                                    "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,36}$"}}],
                    "responses": {"200": {"description": "Expected response to a valid request"}, "404": {"description": "Not found"}}},
        },
    },
    "components": {
        "schemas": {
            "Pet": {"type": "object", "required": ["id", "name"],
                    "properties": {"id": {"type": "integer", "format": "int64", "minimum": 1, "example": 10},
                                   "name": {"type": "string", "example": "doggie"},
                                   "tag": {"type": "string", "nullable": True},
                                   "weight": {"type": "number", "minimum": 0.5, "maximum": 1e3, "multipleOf": 0.25},
                                   "status": {"type": "string", "enum": ["available", "pending", "sold", "yes", "no", "null", ""]}}},
            "Pets": {"type": "array", "maxItems": 100, "items": {"$ref": "#/components/schemas/Pet"}},
            "Error": {"type": "object", "required": ["code", "message"],
                      "properties": {"code": {"type": "integer", "format": "int32"}, "message": {"type": "string"}}},
        },
        "securitySchemes": {"api_key": {"type": "apiKey", "name": "X-API-Key", "in": "header"}},
    },
    "security": [{"api_key": []}],
}

OPENAPI_31 = {
    "openapi": "3.1.0",
    "info": {"title": "Orders: the API", "version": "2024-01-01", "summary": "Orders, with 'quotes' and \"double quotes\""},
    "webhooks": {},
    "paths": {
        "/orders/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "patch": {
                "requestBody": {"content": {"application/merge-patch+json": {"schema": {
                    "type": ["object", "null"], "properties": {"note": {"type": ["string", "null"], "maxLength": 2000},
                                                               "lines": {"type": "array", "items": {"type": "object", "properties": {
                                                                   "sku": {"const": "A-1"}, "qty": {"type": "integer", "exclusiveMinimum": 0}}}}}}}}},
                "responses": {"204": {"description": ""}, "4XX": {"description": "Client error:\n- bad id\n- bad body"}},
            },
        },
    },
    "components": {"parameters": {"Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}}},
}


class BlockStringDumper(yaml.SafeDumper):
    """Writes multi-line strings as block scalars (`|` or `>`), as people do."""
    block_style = "|"


def represent_block(dumper, data):
    style = dumper.block_style if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class LiteralDumper(BlockStringDumper):
    block_style = "|"


class FoldedDumper(BlockStringDumper):
    block_style = ">"


LiteralDumper.add_representer(str, represent_block)
FoldedDumper.add_representer(str, represent_block)

STYLES = [
    ("block", dict(default_flow_style=False)),
    ("block-indent4", dict(default_flow_style=False, indent=4, explicit_start=True)),
    ("flow", dict(default_flow_style=True)),
    ("mixed-width20", dict(default_flow_style=None, width=20)),
    ("double-quoted", dict(default_style='"', default_flow_style=False)),
    ("single-quoted-width30", dict(default_style="'", default_flow_style=False, width=30)),
    ("unicode-width24", dict(default_flow_style=False, allow_unicode=True, width=24)),
    ("literal", dict(default_flow_style=False, allow_unicode=True, Dumper=LiteralDumper)),
    ("folded-width30", dict(default_flow_style=False, width=30, Dumper=FoldedDumper)),
]


def dump(value, options):
    options = dict(options)
    dumper = options.pop("Dumper", yaml.SafeDumper)
    return yaml.dump(value, Dumper=dumper, sort_keys=False, **options)


def main():
    rng = random.Random(SEED)
    documents = [("petstore", PETSTORE), ("openapi-3.1", OPENAPI_31), ("deep-20", deep(rng, 20)),
                 ("empty-object", {}), ("empty-array", []), ("scalar-string", "text"), ("scalar-number", 42)]
    for i in range(DOCUMENTS):
        doc = random_value(rng, 0)
        if not isinstance(doc, (dict, list)):
            doc = {random_key(rng): doc}
        documents.append((f"random-{i}", doc))
    cases = []
    for name, doc in documents:
        for style, options in STYLES:
            text = dump(doc, options)
            back = yaml.safe_load(text)
            if "default_style" not in options and back != doc:
                sys.exit(f"FAILED: PyYAML does not read back {name} in style {style}")
            cases.append({"name": f"{name} {style}", "yaml": text,
                          "json": json.dumps(back, ensure_ascii=True, separators=(",", ":"), allow_nan=False)})
    body = ",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in cases)
    out = f'''// Generated by Tests/EndToEnd/yaml_corpus.py with PyYAML {yaml.__version__}; do not edit.
// To regenerate: `python3 Tests/EndToEnd/yaml_corpus.py` (pip install pyyaml).
//
// {len(documents)} documents (two OpenAPI documents, one nested 20 deep, a few
// edge shapes, {DOCUMENTS} random ones with strings chosen to trip a reader), each
// written by PyYAML in {len(STYLES)} styles: {", ".join(s for s, _ in STYLES)}.
// `json` is what PyYAML reads back from `yaml`.

/// The PyYAML corpus, as JSON: see the comment above.
let yamlCorpus = ##"""
{{"cases": [
{body}
]}}
"""##
'''
    target = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "APIMetricsTests", "YAMLCorpus.swift")
    with open(target, "w", encoding="utf-8") as f:
        f.write(out)
    print(f"{len(cases)} cases, {len(out.encode())} bytes")


if __name__ == "__main__":
    main()
