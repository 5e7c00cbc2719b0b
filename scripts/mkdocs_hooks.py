"""MkDocs hook (mkdocs.yml ``hooks:``): SVG pictures are put in the page inline, each wrapped in a link.

An ``<img>`` of an SVG shows the picture but not its node tooltips (Graphviz writes each node's op as
an SVG ``<title>``, which a browser only shows for SVG that is part of the page). So every ``<img>``
whose source is an SVG file of the docs, or an SVG that a notebook output carries (a ``data:`` URI),
becomes the SVG itself, scaled to the column, inside a link that opens the picture full size (for a
notebook's picture: its copy in ``docs/img/notebook``, which ``make docs-outputs`` writes).
"""

from __future__ import annotations

import base64
import html
import posixpath
import re
from pathlib import Path
from typing import Any

IMG = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]+)\"[^>]*>")
ALT = re.compile(r"\balt=\"([^\"]*)\"")
DATA_SVG = "data:image/svg+xml;base64,"


def _inline(svg: str, alt: str) -> str:
    """The SVG document as an element of the page: no XML prolog, scaled to the column, labelled."""
    svg = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S).strip()
    label = f' role="img" aria-label="{html.escape(alt)}"' if alt else ' role="img"'
    return svg.replace("<svg ", f'<svg style="max-width:100%;height:auto"{label} ', 1)


def _notebook_copies(docs_dir: Path) -> dict[bytes, str]:
    folder = docs_dir / "img" / "notebook"
    if not folder.is_dir():
        return {}
    return {p.read_bytes(): f"img/notebook/{p.name}" for p in sorted(folder.glob("*.svg"))}


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    docs_dir = Path(config["docs_dir"])
    here = posixpath.dirname(page.url.rstrip("/")) if page.url.endswith(".html") else page.url.rstrip("/")
    copies: dict[bytes, str] | None = None

    def replace(match: re.Match[str]) -> str:
        nonlocal copies
        src = match.group(1)
        alt_match = ALT.search(match.group(0))
        alt = html.unescape(alt_match.group(1)) if alt_match else ""
        if src.startswith(DATA_SVG):
            body = base64.b64decode(src[len(DATA_SVG):])
            if copies is None:
                copies = _notebook_copies(docs_dir)
            target = copies.get(body)
            if alt.startswith("No description"):  # what nbconvert writes for an output without alt text
                alt = "a drawing made by the notebook"
            svg = _inline(body.decode("utf-8"), alt)
            if target is None:
                return svg
            href = posixpath.relpath(target, here or ".")
        elif src.lower().endswith(".svg") and "://" not in src:
            path = docs_dir / posixpath.normpath(posixpath.join(here, src))
            if not path.is_file():
                return match.group(0)
            svg = _inline(path.read_text(encoding="utf-8"), alt)
            href = src
        else:
            return match.group(0)
        return (f'<a class="graphnas-figure" href="{html.escape(href)}" title="open the picture full size">'
                f"{svg}</a>")

    return IMG.sub(replace, html_text)
