"""Fails when a public type or top-level function a module declares appears
under no topic of its DocC catalog: every top-level symbol in the module's
own symbol graph must be linked (``Name`` or ``Name(...)``) from a
`## Topics` section of one of the catalog's pages. Members are listed on
their type's page; what the module adds to other modules' types (their
`MODULE@OTHER` graphs) is listed by DocC under the type it extends.

usage: coverage.py CATALOG SYMBOL_GRAPH_JSON
"""
import json
import pathlib
import re
import sys

catalog, graph = pathlib.Path(sys.argv[1]), json.loads(pathlib.Path(sys.argv[2]).read_text())
curated = set()
for page in catalog.glob("*.md"):
    text = page.read_text()
    topics = text.split("\n## Topics\n", 1)
    if len(topics) == 2:
        curated.update(re.findall(r"^- ``([^`]+)``", topics[1], re.M))
top = {s["names"]["title"] if s["kind"]["identifier"] != "swift.func" else "/".join(s["pathComponents"])
       for s in graph["symbols"] if len(s["pathComponents"]) == 1}
missing = sorted(name for name in top if name not in curated)
if missing:
    sys.exit(f"coverage: {catalog.name} puts {len(missing)} public symbol(s) under no topic: " + ", ".join(missing))
print(f"coverage: {catalog.name}: all {len(top)} top-level public symbols are under a topic")
