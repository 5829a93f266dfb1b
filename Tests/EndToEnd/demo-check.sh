#!/usr/bin/env bash
# Builds the demo and runs the end-to-end checks of Tests/EndToEnd/demo_check.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
swift build --package-path "$root" --product apimetrics-demo
bin="$(swift build --package-path "$root" --show-bin-path)"
python3 "$root/Tests/EndToEnd/demo_check.py" "$bin/apimetrics-demo"
