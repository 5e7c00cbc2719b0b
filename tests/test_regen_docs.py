"""scripts/regen_docs.py: every output the docs quote has a generator, and the quoted part is replaced whole.

Running the script itself takes the full main job (about a minute); `make docs-outputs` does that.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("regen_docs", ROOT / "scripts" / "regen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


regen = load_script()

SUMMARY = {
    "bo": {"best_value": 98.0556, "mean_value": 93.321, "seconds": 36.84, "train_seconds": 25.2},
    "random": {"best_value": 97.5, "mean_value": 88.94, "seconds": 21.6, "train_seconds": 20.1},
    "seconds": 65.2,
    "versions": {"graphnas": "0.1.0", "torch": "2.13.0+cpu"},
}


def test_every_picture_the_docs_show_has_a_generator():
    shown = set()
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        shown |= set(re.findall(r"img/([\w.-]+\.(?:svg|png))", md.read_text(encoding="utf-8")))
    assert {"demo-search-curve.png", "demo-best-cell.svg", "ws32.svg", "nb201-cell.svg"} <= shown
    drawn = set(re.findall(r'"([\w.-]+\.svg)"', (ROOT / "docs" / "img" / "make_images.py").read_text()))
    # pictures a benchmark script draws: its command line, quoted in the docs, names the file
    # (bench_reinforce.py --png X.png also draws the policy as X-policy.png)
    for md in sorted((ROOT / "docs").rglob("*.md")):
        for cmd in re.findall(r"python bench/[\w.]+\.py[^`\n]*", md.read_text(encoding="utf-8")):
            for name in re.findall(r"docs/img/([\w.-]+\.(?:svg|png))", cmd):
                drawn |= {name, name.replace(".png", "-policy.png")}
    assert shown <= drawn | set(regen.DEMO_PICTURES.values()), shown - drawn - set(regen.DEMO_PICTURES.values())
    assert all((ROOT / "docs" / "img" / name).is_file() for name in shown)


def test_the_demo_section_of_cli_md_is_replaced_whole():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    output = "BO + GNN surrogate ... 60/60 best 98.06\nbest cell |x|: 98.06%"
    section = regen.demo_section(output, SUMMARY, date="2026-12-01", machine="a test machine",
                                 validation_images=360)
    new = regen.replace_section(text, section)
    assert new.count(regen.BEGIN) == new.count(regen.END) == 1
    assert new.startswith(text[:text.index(regen.BEGIN)])
    assert new.endswith(text[text.index(regen.END) + len(regen.END):])
    assert "```text\n" + output + "\n```" in new
    prose = " ".join(new.split())
    assert "printed on 2026-12-01 (a test machine; 65 s wall clock)" in prose
    assert "`graphnas demo --out runs/demo --seed 0`" in prose
    # 98.0556 - 97.5 = 0.56 points = 2 of 360 images
    assert "BO's best (98.06%) is 0.56 points above random search's (97.50%), i.e. 2 of the 360" in prose
    assert "Of BO's 37 s, 25 s went to training" in prose
    assert max(len(line) for line in section.splitlines() if "|" not in line) <= 100
    assert regen.replace_section(new, section) == new  # idempotent
    with pytest.raises(ValueError, match="markers"):
        regen.replace_section("no markers here", section)


def test_output_is_quoted_without_trailing_blanks():
    assert regen.clean_output("\n\nline one   \nline two\t\n\n") == "line one\nline two"
    tie = dict(SUMMARY, random=dict(SUMMARY["random"], best_value=98.0556, mean_value=95.0))
    text = regen.demo_section("x", tie, date="d", machine="m", validation_images=360)
    assert "BO's best (98.06%) equals random search's" in " ".join(text.split()) and "keeps proposing" not in text
