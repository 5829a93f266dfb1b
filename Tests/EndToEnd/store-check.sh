#!/usr/bin/env bash
# The local store through the demo: exact windows while the queue drops,
# kill -9 while writing, a restart's day view, the command over the file.
# Needs the sqlite3 shell (Debian's sqlite3; installed when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v sqlite3 >/dev/null; then
    echo "store-check: installing sqlite3"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null
fi
swift build --package-path "$root" --product apimetrics-demo
swift build --package-path "$root" --product apimetrics
bin="$(swift build --package-path "$root" --show-bin-path)"
python3 "$root/Tests/EndToEnd/store_check.py" "$bin/apimetrics-demo" "$bin/apimetrics"
