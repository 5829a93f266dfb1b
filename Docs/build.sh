#!/usr/bin/env bash
# Builds the manual: the DocC catalog of each library module
# (Sources/MODULE/MODULE.docc), from symbol graphs of the modules
# `swift build` made, with the toolchain's own `docc` (no plugin, no
# package). Warnings are errors, so every symbol link resolves; and
# Docs/coverage.py fails when a public type or function of a module is
# under no topic of its catalog.
#
# usage: bash Docs/build.sh      the site in .build/docs/MODULE/; open it with
#   python3 -m http.server --directory .build/docs 8000
#   and http://127.0.0.1:8000/APIMetrics/documentation/apimetrics/
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(APIMetrics APIMetricsWire APIMetricsFoundation APIMetricsTesting)
swift build >/dev/null
bin="$(swift build --show-bin-path)"
triple="$(swift -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["target"]["triple"])')"
out=.build/docs
graphs=.build/symbol-graphs
rm -rf "$out" "$graphs"
mkdir -p "$out"
for module in "${modules[@]}"; do
    mkdir -p "$graphs/$module"
    swift symbolgraph-extract -module-name "$module" -I "$bin/Modules" -I Sources/CSQLite -I Sources/CZlib \
        -target "$triple" -minimum-access-level public -output-dir "$graphs/$module"
    python3 Docs/coverage.py "Sources/$module/$module.docc" "$graphs/$module/$module.symbols.json"
    lower="$(echo "$module" | tr '[:upper:]' '[:lower:]')"
    docc convert "Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$graphs/$module" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.apimetrics.$module" \
        --transform-for-static-hosting --hosting-base-path "$module" \
        --warnings-as-errors --output-path "$out/$module" >"$out/$module.log" 2>&1 || {
        cat "$out/$module.log"
        echo "docs: docc convert of $module failed (warnings are errors)"
        exit 1
    }
    echo "docs: $module -> $out/$module/documentation/$lower/"
done
