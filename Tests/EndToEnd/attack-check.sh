#!/usr/bin/env bash
# The attacks of the security review, each a script against the demo and the
# library's own metrics listener on 127.0.0.1, bounded in count and time.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
command -v setpriv >/dev/null || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }
command -v useradd >/dev/null || { apt-get update -qq && apt-get install -y -qq passwd >/dev/null; }
swift build --package-path "$root" --product apimetrics-demo
demo="$(swift build --package-path "$root" --show-bin-path)/apimetrics-demo"
cd "$root/Tests/EndToEnd"
for attack in attack_connections.py attack_view.py attack_cardinality.py attack_secrets.py attack_wire.py; do
    echo "-- $attack"
    python3 "$attack" "$demo"
done
