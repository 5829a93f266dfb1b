#!/usr/bin/env bash
# Alerts through the demo: rules from a file, a signed webhook on loopback,
# a restart in between; each transition told once (stdlib Python only).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
swift build --package-path "$root" --product apimetrics-demo
bin="$(swift build --package-path "$root" --show-bin-path)"
python3 "$root/Tests/EndToEnd/alerts_check.py" "$bin/apimetrics-demo"
