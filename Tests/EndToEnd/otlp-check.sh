#!/usr/bin/env bash
# The OTLP encodings against an independent decoder, the opentelemetry-proto
# package (installed from PyPI into a temporary directory):
# 1. apimetrics-bench writes a trace request of sample exchanges, checked
#    span by span and re-encoded byte for byte (otlp_check.py);
# 2. the demo exports traces, logs and metrics to a loopback collector,
#    in http/protobuf and in http/json (otlp_demo_check.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --target "$work/python" opentelemetry-proto 2>&1 \
    | grep -v "Running pip as the 'root' user" || true
swift build --package-path "$root" --product apimetrics-bench >/dev/null
swift build --package-path "$root" --product apimetrics-demo >/dev/null
bin="$(swift build --package-path "$root" --show-bin-path)"
"$bin/apimetrics-bench" --otlp-sample "$work/traces.pb"
PYTHONPATH="$work/python" python3 "$root/Tests/EndToEnd/otlp_check.py" "$work/traces.pb"
PYTHONPATH="$work/python" python3 "$root/Tests/EndToEnd/otlp_demo_check.py" "$bin/apimetrics-demo"
