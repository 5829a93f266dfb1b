"""Checks that every code block marked `<!-- from PATH -->` in the README and
the manual (the DocC catalogs' articles) is still the file's own lines: each
block's lines, stripped of indentation, appear in PATH one after another.
Blocks marked `<!-- first-hour NAME -->` that appear more than once (the
README's and the Frameworks article's) must be the same."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
pages = [root / "README.md"] + sorted(root.glob("Sources/*/*.docc/*.md")) + sorted(root.glob("Examples/*/Sources/*/*.docc/*.md"))
pattern = re.compile(r"<!-- from (\S+) -->\n```\w*\n(.*?)```", re.S)
first_hour = re.compile(r"<!-- first-hour (\S+) -->\n```\w*\n(.*?)```", re.S)
checked = 0
copies = {}
for page in pages:
    text = page.read_text()
    name = page.relative_to(root)
    for path, block in pattern.findall(text):
        wanted = [line.strip() for line in block.strip("\n").split("\n")]
        source = [line.strip() for line in (root / path).read_text().split("\n")]
        if not any(source[i:i + len(wanted)] == wanted for i in range(len(source))):
            sys.exit(f"readme_snippets: {name}'s block from {path} is not in that file:\n" + "\n".join(wanted))
        checked += 1
    for label, block in first_hour.findall(text):
        copies.setdefault(label, []).append((name, block))
if checked == 0:
    sys.exit("readme_snippets: no block marked <!-- from PATH --> in the README or the manual")
for label, found in copies.items():
    if len({block for _, block in found}) > 1:
        sys.exit(f"readme_snippets: the first-hour block {label} differs between " + ", ".join(str(n) for n, _ in found))
print(f"readme_snippets: {checked} blocks are their files' own lines; {len(copies)} first-hour blocks agree wherever they appear")
