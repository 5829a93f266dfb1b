#!/usr/bin/env bash
# API discovery through the demo: the OpenAPI document is valid (a real
# validator), matches the demo's code, and holds no value sent.
# Needs openapi-spec-validator from PyPI (installed when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
packages="$root/.build/standin-python"
if ! PYTHONPATH="$packages" python3 -c "import openapi_spec_validator" 2>/dev/null; then
    echo "discovery-check: installing openapi-spec-validator"
    python3 -m pip install --quiet --disable-pip-version-check --target "$packages" openapi-spec-validator
fi
swift build --package-path "$root" --product apimetrics-demo
swift build --package-path "$root" --product apimetrics
bin="$(swift build --package-path "$root" --show-bin-path)"
PYTHONPATH="$packages" python3 "$root/Tests/EndToEnd/discovery_check.py" "$bin/apimetrics-demo" "$bin/apimetrics"
PYTHONPATH="$packages" python3 "$root/Tests/EndToEnd/spec_check.py" "$bin/apimetrics-demo" "$bin/apimetrics"
