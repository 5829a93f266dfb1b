#!/usr/bin/env bash
# Builds the manual: the DocC catalog of each library module
# (Sources/MODULE/MODULE.docc), from symbol graphs of the modules
# `swift build` made, with the toolchain's own `docc` (no plugin, no
# package). Warnings are errors, so every symbol link resolves; and
# Docs/coverage.py fails when a public type or function of a module is
# under no topic of its catalog.
#
# usage:
#   bash Docs/build.sh
#       the root package's modules, into .build/docs/MODULE/; open them with
#       python3 -m http.server --directory .build/docs 8000
#       and http://127.0.0.1:8000/APIMetrics/documentation/apimetrics/
#   bash Docs/build.sh --package Examples/APIMetricsHummingbird APIMetricsHummingbird
#       a framework package's module, from that package's debug build,
#       into .build/docs/MODULE/
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/.build/docs"
triple="$(swift -print-target-info | python3 -c 'import json, sys; print(json.load(sys.stdin)["target"]["triple"])')"

# convert PACKAGE_DIR MODULE: the module's symbol graph from the package's
# build, the coverage check, then docc.
convert() {
    local package="$1" module="$2"
    local bin graphs="$root/.build/symbol-graphs/$module" lower includes=()
    bin="$(swift build --package-path "$package" --show-bin-path)"
    # The C modules the module's dependencies declare (the root's system
    # libraries; a framework's C shims, as its build laid them out).
    includes=(-I "$root/Sources/CSQLite" -I "$root/Sources/CZlib")
    while IFS= read -r map; do includes+=(-I "$(dirname "$map")"); done < <(
        find "$package/.build/checkouts" "$(cd "$bin" && pwd -P)" -name module.modulemap -not -path '*/Tests/*' 2>/dev/null | sort -u)
    rm -rf "$graphs" "$out/$module"
    mkdir -p "$graphs"
    swift symbolgraph-extract -module-name "$module" -I "$bin/Modules" "${includes[@]}" \
        -target "$triple" -minimum-access-level public -output-dir "$graphs"
    python3 "$root/Docs/coverage.py" "$package/Sources/$module/$module.docc" "$graphs/$module.symbols.json"
    lower="$(echo "$module" | tr '[:upper:]' '[:lower:]')"
    docc convert "$package/Sources/$module/$module.docc" \
        --additional-symbol-graph-dir "$graphs" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.apimetrics.$module" \
        --transform-for-static-hosting --hosting-base-path "$module" \
        --warnings-as-errors --output-path "$out/$module" >"$out/$module.log" 2>&1 || {
        cat "$out/$module.log"
        echo "docs: docc convert of $module failed (warnings are errors)"
        exit 1
    }
    echo "docs: $module -> $out/$module/documentation/$lower/"
}

mkdir -p "$out"
if [ "${1:-}" = --package ]; then
    # Built first: the symbol graph reads the doc comments through the
    # build's source ranges, which an edit since the last build would shift.
    swift build --package-path "$2" >/dev/null
    convert "$2" "$3"
else
    swift build >/dev/null
    for module in APIMetrics APIMetricsWire APIMetricsFoundation APIMetricsTesting; do
        convert "$root" "$module"
    done
fi
