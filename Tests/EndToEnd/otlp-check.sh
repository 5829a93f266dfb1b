#!/usr/bin/env bash
# The OTLP trace encoding against an independent decoder: apimetrics-bench
# writes a request of sample exchanges, and the opentelemetry-proto package
# (installed from PyPI into a temporary directory) parses and checks it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip install --quiet --disable-pip-version-check --target "$work/python" opentelemetry-proto 2>&1 \
    | grep -v "Running pip as the 'root' user" || true
swift build --package-path "$root" --product apimetrics-bench >/dev/null
"$(swift build --package-path "$root" --show-bin-path)/apimetrics-bench" --otlp-sample "$work/traces.pb"
PYTHONPATH="$work/python" python3 "$root/Tests/EndToEnd/otlp_check.py" "$work/traces.pb"
