#!/usr/bin/env bash
# The vendor exporters through the demo: Moesif, ReadMe Metrics, Apitally
# and Monoscope ingests on loopback (vendor_check.py); ReadMe's HAR entries
# checked against a HAR 1.2 JSON schema by the jsonschema package, and
# Monoscope's spans decoded by opentelemetry-proto (both installed from
# PyPI into a temporary directory).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --target "$work/python" jsonschema opentelemetry-proto 2>&1 \
    | grep -v "Running pip as the 'root' user" || true
swift build --package-path "$root" --product apimetrics-demo >/dev/null
bin="$(swift build --package-path "$root" --show-bin-path)"
PYTHONPATH="$work/python" python3 "$root/Tests/EndToEnd/vendor_check.py" "$bin/apimetrics-demo" "$root/Tests/EndToEnd/vendors/schemas/readme-har-1.2.json"
