"""Checks that every README code block marked `<!-- from PATH -->` is still
the file's own lines: each block's lines, stripped of indentation, appear in
PATH one after another."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parents[2]
readme = (root / "README.md").read_text()
pattern = re.compile(r"<!-- from (\S+) -->\n```\w*\n(.*?)```", re.S)
checked = 0
for path, block in pattern.findall(readme):
    wanted = [line.strip() for line in block.strip("\n").split("\n")]
    source = [line.strip() for line in (root / path).read_text().split("\n")]
    if not any(source[i:i + len(wanted)] == wanted for i in range(len(source))):
        sys.exit(f"readme_snippets: the README's block from {path} is not in that file:\n" + "\n".join(wanted))
    checked += 1
if checked == 0:
    sys.exit("readme_snippets: no block marked <!-- from PATH --> in the README")
print(f"readme_snippets: {checked} blocks are their files' own lines")
