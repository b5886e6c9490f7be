"""Print the N-th fenced shell command of README.md (1-based): CI runs what users read."""

import pathlib
import re
import sys

text = pathlib.Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
blocks = re.findall(r"^```(?:sh|bash|shell|console)\n(.*?)^```", text, flags=re.M | re.S)
print(blocks[int(sys.argv[1]) - 1].strip())
