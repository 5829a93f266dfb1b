#!/usr/bin/env bash
# Builds apimetrics and the demo, and runs Tests/EndToEnd/cli_check.py.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
swift build --package-path "$root" --product apimetrics
swift build --package-path "$root" --product apimetrics-demo
bin="$(swift build --package-path "$root" --show-bin-path)"
python3 "$root/Tests/EndToEnd/cli_check.py" "$bin/apimetrics" "$bin/apimetrics-demo"
