"""A framework package resolves what its users need and nothing more: every
package in `swift package show-dependencies` is the framework,
swift-service-lifecycle, or one of their own dependencies (besides
APIMetrics itself).

usage: dependencies_check.py PACKAGE_PATH FRAMEWORK_IDENTITY
"""
import json
import subprocess
import sys

path, framework = sys.argv[1], sys.argv[2]
shown = subprocess.run(["swift", "package", "show-dependencies", "--package-path", path, "--format", "json"],
                       capture_output=True, text=True)
if shown.returncode != 0:
    sys.exit(f"dependencies_check: show-dependencies failed: {shown.stderr[-2000:]}")
root = json.loads(shown.stdout[shown.stdout.index("{"):])


def closure(node):
    found = set()
    for child in node["dependencies"]:
        found.add(child["identity"])
        found |= closure(child)
    return found


top = {child["identity"]: child for child in root["dependencies"]}
allowed = set()
for identity in (framework, "swift-service-lifecycle"):
    if identity in top:
        allowed |= {identity} | closure(top[identity])
# APIMetrics itself, by whatever name its folder gives it: the one top-level package with no dependency of its own.
ours = {identity for identity, node in top.items() if not node["dependencies"] and identity not in allowed}
extra = closure(root) - allowed - ours
if framework not in top or extra or len(ours) > 1:
    sys.exit(f"dependencies_check: {path} resolves {sorted(extra | (ours if len(ours) > 1 else set()))} beyond {framework}, "
             f"swift-service-lifecycle and their dependencies")
print(f"dependencies_check: {path}: {len(closure(root))} packages, all {framework}, swift-service-lifecycle, theirs, or APIMetrics")
