"""The documentation builds with `mkdocs build --strict` (warnings are errors), as CI runs it, and what it
builds reads as a page should: no raw reStructuredText, pictures inline with their tooltips, the notebook
with its outputs, one API page per part of the package."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# reST that Markdown leaves as it is: roles (:class:`X`, :py:func:`f`), literal-block markers (Example::),
# double-backtick literals
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|ref|const|term|doc|math)?:`")
LITERAL_MARKER = re.compile(r"\w::(?=\s|$)")
DOUBLE_BACKTICK = re.compile(r"(?<!`)``\w")
FENCE = re.compile(r"```")


def prose(html: str) -> str:
    """The text of a page outside code, scripts and pictures, one line per element."""
    html = re.sub(r"<(pre|code|script|style|svg|textarea)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", "\n", html)


def raw_markup(html: str) -> list[str]:
    text = prose(html)
    return [m.group(0) for pattern in (ROLE, LITERAL_MARKER, DOUBLE_BACKTICK, FENCE) for m in pattern.finditer(text)]


def test_raw_markup_detector():
    assert raw_markup("<p>see :class:`graphnas.DAG` and :py:func:`f`</p>") == [":class:`", ":py:func:`"]
    assert raw_markup("<p>Example::</p><p>``x``</p><p>```python</p>") == ["e::", "``x", "```"]
    assert raw_markup("<p>ok <code>:class:`x` a[::2]</code></p><pre>Example::</pre>") == []


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    out = tmp_path_factory.mktemp("docs") / "site"
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def test_mkdocs_build_strict(site):
    for page in ("index.html", "rendering/index.html", "cli/index.html", "api/index.html", "quickstart/index.html"):
        assert (site / page).is_file(), page
    assert (site / "img" / "darts-v2.svg").is_file()


def test_api_reference_has_a_page_per_part(site):
    pages = {"dag": "as_dag", "generators": "NB201Space", "torch": "to_torch", "display": "to_dot",
             "converters": "to_networkx", "benchmarks": "train_eval", "surrogate": "GNNSurrogate",
             "search": "to_pandas", "cli": "main_job"}
    for page, name in pages.items():
        html = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        assert name in html, (page, name)  # docstrings made it into the reference
        assert len(html) < 200_000, page


def test_no_raw_restructuredtext_reaches_the_site(site):
    bad = {}
    for page in sorted(site.rglob("*.html")):
        found = raw_markup(page.read_text(encoding="utf-8"))
        if found:
            bad[str(page.relative_to(site))] = found[:5]
    assert not bad, bad


def test_pictures_are_inline_with_tooltips_and_open_full_size(site):
    html = (site / "rendering" / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<img\b[^>]*\.svg\"", html)  # no SVG as <img>: tooltips would not show
    figure = re.search(r'<a class="graphnas-figure" href="\.\./img/ws32\.svg"[^>]*>(.*?)</a>', html, re.S)
    assert figure is not None
    svg = figure.group(1)
    assert svg.startswith("<svg") and "max-width:100%" in svg
    assert re.search(r'xlink:title="\d+: \w+"', svg)  # hovering a node shows its op


def test_notebook_page_shows_its_outputs(site):
    html = (site / "quickstart" / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<img\b[^>]*data:image/svg", html)  # every drawing inline
    links = re.findall(r'<a class="graphnas-figure" href="\.\./(img/notebook/[\w-]+\.svg)"', html)
    assert len(links) >= 6 and all((ROOT / "docs" / link).is_file() for link in links)
    assert "data:image/png" in html  # the search plot
    assert "<table><caption>150 evaluations" in html  # the History table


def test_site_and_repo_urls(site):
    html = (site / "rendering" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://graphnas.github.io/graphnas/rendering/">' in html
    assert 'href="https://github.com/graphnas/graphnas"' in html
    assert 'href="/graphnas/assets/' in (site / "404.html").read_text(encoding="utf-8")  # works under the sub-path
