"""The front door: the README's two commands and every relative link in README and docs."""

import pathlib
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.kernels_only  # run once: see tests/conftest.py

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _links(path: pathlib.Path) -> list[str]:
    text = path.read_text()
    return [t for t in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) if "://" not in t]


def test_relative_links_resolve():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in _links(page):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_readme_holds_the_two_commands_that_ci_reads():
    def command(n: int) -> str:
        out = subprocess.run(
            [sys.executable, str(ROOT / ".ci" / "readme.py"), str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    demo, tests = command(1), command(2)
    assert "pip install" in demo and demo.endswith("logreal demo")
    assert "pip install" in tests and "pytest" in tests
