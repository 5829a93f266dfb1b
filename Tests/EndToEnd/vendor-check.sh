#!/usr/bin/env bash
# The vendor exporters through the demo, against strict stand-ins of the
# Moesif, ReadMe Metrics, Apitally and Monoscope ingests on loopback
# (Tests/EndToEnd/vendors/: schemas checked by the jsonschema package,
# Monoscope's OTLP decoded by opentelemetry-proto, both installed from PyPI
# into a temporary directory). See vendor_check.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --target "$work/python" \
    jsonschema rfc3339-validator opentelemetry-proto 2>&1 | grep -v "Running pip as the 'root' user" || true
swift build --package-path "$root" --product apimetrics-demo >/dev/null
bin="$(swift build --package-path "$root" --show-bin-path)"
PYTHONPATH="$work/python" PYTHONDONTWRITEBYTECODE=1 python3 "$root/Tests/EndToEnd/vendor_check.py" "$bin/apimetrics-demo"
