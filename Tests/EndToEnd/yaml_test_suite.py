#!/usr/bin/env python3
"""Writes Tests/APIMetricsTests/YAMLTestSuite.swift from a checkout of the
yaml-test-suite's `data` branch (https://github.com/yaml/yaml-test-suite).

    git clone -b data https://github.com/yaml/yaml-test-suite /tmp/yts
    python3 Tests/EndToEnd/yaml_test_suite.py /tmp/yts [--exclude ID ...]

Standard library only. The rules for what is kept are written into the Swift
file's header; cases named with --exclude are left out by hand (the reasons
are listed in the header too, from EXCLUDED below).
"""
import json
import os
import re
import sys

# Cases left out by hand, with the reason: see the header this script writes.
EXCLUDED = {
}

# The suite's License file (its main branch; the data branch has none).
LICENCE = """\
MIT License

Copyright (c) 2016-2020 Ingy döt Net

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

CORE_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")} | {"!"}


def events(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def out_of_scope(evs, yaml_text):
    """The reason a valid case is not kept, or None."""
    if sum(1 for e in evs if e.startswith("+DOC")) != 1:
        return "not exactly one document"
    if re.search(r"^%TAG", yaml_text, re.M):
        return "%TAG directive"
    if re.search(r"(^|[\s\[{,])\?(\s|$)", yaml_text, re.M):
        return "complex key ('? ')"
    if "<<" in yaml_text:
        return "merge key (YAML 1.1; the suite reads it as a plain key)"
    for e in evs:
        for tag in re.findall(r"<([^>]*)>", e):
            if tag not in CORE_TAGS:
                return "tag outside the core schema"
    # Keys: walk the events; a key that is a collection, an alias or empty is out of scope.
    stack = []  # [kind, count of children]
    for e in evs:
        kind = e.split(" ")[0]
        if kind in ("+MAP", "+SEQ", "=VAL", "=ALI"):
            if stack and stack[-1][0] == "MAP" and stack[-1][1] % 2 == 0:
                if kind in ("+MAP", "+SEQ"):
                    return "collection as a key"
                if kind == "=ALI":
                    return "alias as a key"
                value = e.split(" ", 1)[1] if " " in e else ""
                value = re.sub(r"^(&\S+ )?(<[^>]*> )?", "", value)
                if value == ":":
                    return "empty key"
                if value.startswith(":") and not re.fullmatch(r":[^\n]*", value):
                    return "odd key"
                text = value[1:]
                if value.startswith(":") and re.fullmatch(
                        r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|"
                        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)", text):
                    return "non-string key (JSON has none; the suite's JSON and ours may differ)"
            if stack:
                stack[-1][1] += 1
            if kind in ("+MAP", "+SEQ"):
                stack.append([kind[1:], 0])
        elif kind in ("-MAP", "-SEQ"):
            stack.pop()
    return None


def main():
    root = sys.argv[1]
    commit = os.environ.get("YTS_COMMIT", "6ad3d2c62885d82fc349026c136ef560838fdf3d")
    valid, invalid, skipped = [], [], {}
    for name in sorted(os.listdir(root)):
        base = os.path.join(root, name)
        if not os.path.isdir(base) or name.startswith("."):
            continue
        subdirs = sorted(d for d in os.listdir(base) if re.fullmatch(r"\d\d", d))
        for case_dir, ident in ([(os.path.join(base, d), f"{name}/{d}") for d in subdirs] or [(base, name)]):
            if not os.path.exists(os.path.join(case_dir, "in.yaml")):
                continue
            with open(os.path.join(case_dir, "in.yaml"), "rb") as f:
                yaml_bytes = f.read()
            yaml_text = yaml_bytes.decode("utf-8")
            with open(os.path.join(case_dir, "==="), encoding="utf-8") as f:
                title = f.read().strip()
            if ident in EXCLUDED:
                skipped[ident] = "by hand: " + EXCLUDED[ident]
                continue
            if os.path.exists(os.path.join(case_dir, "error")):
                invalid.append({"id": ident, "name": title, "yaml": yaml_text})
                continue
            json_path = os.path.join(case_dir, "in.json")
            if not os.path.exists(json_path):
                skipped[ident] = "no JSON"
                continue
            reason = out_of_scope(events(os.path.join(case_dir, "test.event")), yaml_text)
            if reason:
                skipped[ident] = reason
                continue
            with open(json_path, encoding="utf-8") as f:
                expected = json.loads(f.read())
            valid.append({"id": ident, "name": title, "yaml": yaml_text,
                          "json": json.dumps(expected, ensure_ascii=True, separators=(",", ":"))})
    licence = LICENCE
    reasons = {}
    for ident, reason in skipped.items():
        reasons.setdefault(reason, []).append(ident)
    out = []
    out.append("// Cases from the YAML test suite (https://github.com/yaml/yaml-test-suite,")
    out.append(f"// its `data` branch at commit {commit}), used under its licence,")
    out.append("// which follows:")
    out.append("//")
    out.extend(("// " + line).rstrip() for line in licence.splitlines())
    out.append("//")
    out.append("// What is kept, by Tests/EndToEnd/yaml_test_suite.py (one case a line below):")
    out.append("// - \"valid\": every case with an `in.json` and no `error`, holding one")
    out.append("//   document, no %TAG directive, no `? ` complex key, no `<<`, no tag")
    out.append("//   outside the core schema, and no key that is a collection, an alias,")
    out.append("//   empty or a non-string scalar. `json` is the suite's JSON.")
    out.append("// - \"invalid\": every case with an `error` file: YAMLReader must reject each.")
    out.append("//   A few (9HCY, C2SP, EB22, LHL4, QLJ7) also use what it does not read")
    out.append("//   (%TAG, local tags, a collection as a key) and fail on that first.")
    out.append(f"// Kept: {len(valid)} valid, {len(invalid)} invalid. Left out:")
    for reason, ids in sorted(reasons.items()):
        out.append(f"// - {reason} ({len(ids)}): {' '.join(ids)}")
    out.append("")
    out.append("/// The suite's cases, as JSON: see the comment above.")
    out.append('let yamlTestSuite = ##"""')
    out.append("{")
    out.append('"valid": [')
    out.append(",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in valid))
    out.append("],")
    out.append('"invalid": [')
    out.append(",\n".join(json.dumps(c, ensure_ascii=True, separators=(",", ":")) for c in invalid))
    out.append("]")
    out.append("}")
    out.append('"""##')
    target = os.path.join(os.path.dirname(__file__), "..", "APIMetricsTests", "YAMLTestSuite.swift")
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"kept {len(valid)} valid, {len(invalid)} invalid; left out {len(skipped)}")


if __name__ == "__main__":
    main()
