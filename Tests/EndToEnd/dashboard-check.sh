#!/usr/bin/env bash
# The dashboard app against the demo and its store, in headless Chromium
# driven by Selenium. Installs what it needs: Debian's chromium and
# chromium-driver, selenium from PyPI. Screenshots go to $APIMETRICS_SHOTS
# when set.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if (( ${#missing[@]} )); then
    echo "dashboard-check: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c "import selenium" 2>/dev/null || python3 -m pip install --quiet selenium
swift build --package-path "$root" --product apimetrics-demo
bin="$(swift build --package-path "$root" --show-bin-path)"
python3 "$root/Tests/EndToEnd/dashboard_check.py" "$bin/apimetrics-demo" ${APIMETRICS_SHOTS:+--shots "$APIMETRICS_SHOTS"}
python3 "$root/Tests/EndToEnd/dashboard_fixture_check.py" --shots "$(mktemp -d)"
