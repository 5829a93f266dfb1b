#!/usr/bin/env bash
# The metrics against real peers: Prometheus's own parser (python3-prometheus-client),
# a real Prometheus server scraping the demo, and headless Chromium rendering the
# dashboard. Installs what it needs (Debian packages). A screenshot of the
# dashboard under load is left at $APIMETRICS_SCREENSHOT when set.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
/usr/bin/python3 -c "import prometheus_client" 2>/dev/null || missing+=(python3-prometheus-client)
if (( ${#missing[@]} )); then
    echo "metrics-check: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
swift build --package-path "$root" --product apimetrics-demo
swift build --package-path "$root" --product apimetrics
bin="$(swift build --package-path "$root" --show-bin-path)"
# Debian's python3, which has the parser (another python3 may come first on PATH).
/usr/bin/python3 "$root/Tests/EndToEnd/metrics_check.py" "$bin/apimetrics-demo" "$bin/apimetrics"
