"""Vega-Lite specs to SVG on the server, with no browser, no JavaScript sent and no network.

`vl-convert` runs Vega-Lite and Vega in an embedded JavaScript runtime and writes SVG with its
text as `<text>` elements in `font-family="sans-serif"` (the reader's own fonts draw them; no
font is embedded or fetched). It measures the labels with the machine's fonts: CJK labels need a
CJK font installed (Debian's `fonts-wqy-microhei`, registered below when present), or the layout
guesses their width. External data is refused (`allowed_base_urls=[]`): every chart's data is
inline in its spec.

`clean` makes the SVG safe to inline in a page that has other charts and a strict
Content-Security-Policy: no URL but the SVG namespace (the unused xlink namespace goes, a scheme
written in a label is defused), ids made unique to the chart, no script, no `style` attribute,
and `role="img"` with the chart's title for screen readers. Same spec, same bytes.
"""

from __future__ import annotations

import hashlib
import re
import threading
from html import escape
from pathlib import Path
from typing import Any, Literal

import vl_convert

from sanbuting.errors import SanbutingError

Lang = Literal["zh", "en"]
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT_DIRECTORIES = (
    Path("/usr/share/fonts/truetype/wqy"),
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
)
"""CJK fonts used to measure labels, where the machine has them (Debian's packages)."""
LOCALES: dict[Lang, Literal["zh-CN", "en-US"]] = {"zh": "zh-CN", "en": "en-US"}

_fonts_done = False
_lock = threading.Lock()
_XLINK = ' xmlns:xlink="http://www.w3.org/1999/xlink"'
_SCHEME = re.compile(r"(?i)\b(https?|ftp|file|data|javascript):(?=\S)")
_ID = re.compile(r'\bid="([^"]+)"')
_FORBIDDEN = re.compile(r"(?i)<script|<foreignobject|<style|<[^>]*\s(?:on[a-z]+|style)\s*=")


class ChartError(SanbutingError):
    """A chart that could not be drawn, or an SVG not fit to be inlined in a page."""


def _register_fonts() -> None:
    global _fonts_done  # noqa: PLW0603  (once per process)
    if _fonts_done:
        return
    for folder in FONT_DIRECTORIES:
        if folder.is_dir():
            vl_convert.register_font_directory(str(folder))
    _fonts_done = True


def render(spec: dict[str, Any], lang: Lang, title: str = "") -> str:
    """The SVG of the Vega-Lite `spec`, number and time formats of `lang`, cleaned (`clean`)."""
    with _lock:  # one embedded runtime per process: conversions take turns
        _register_fonts()
        try:
            svg = vl_convert.vegalite_to_svg(
                spec,
                allowed_base_urls=[],
                format_locale=LOCALES[lang],
                time_format_locale=LOCALES[lang],
            )
        except ValueError as exc:
            raise ChartError(f"the chart could not be drawn: {exc}") from exc
    return clean(svg, title)


def clean(svg: str, title: str = "") -> str:
    """`svg` made fit to inline (see the module docstring); a `ChartError` if it holds script,
    an event handler or a style that a strict Content-Security-Policy would refuse."""
    text = svg.strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :].lstrip()
    if not text.startswith("<svg"):
        raise ChartError("not an SVG image: it must begin with <svg")
    if _FORBIDDEN.search(text):
        raise ChartError("the SVG holds script, an event handler or a style: it cannot be inlined")
    if "xlink:" not in text.replace(_XLINK, ""):
        text = text.replace(_XLINK, "", 1)
    head, rest = text.split(">", 1)
    kept = [n for n in (f' xmlns="{SVG_NAMESPACE}"', _XLINK) if n in head]
    for n, namespace in enumerate(kept):
        head = head.replace(namespace, f"\0{n}\0")
    head = _SCHEME.sub(r"\1：", head)
    for n, namespace in enumerate(kept):
        head = head.replace(f"\0{n}\0", namespace)
    text = head + ">" + _SCHEME.sub(r"\1：", rest)
    text = _unique_ids(text)
    if title and "role=" not in head:
        label = escape(title, quote=True)
        text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return text


def defuse(text: str) -> str:
    """`text` with every URL scheme's colon made full-width (`http：//`), so that a label or a
    cell that quotes an address is read, never followed or fetched."""
    return _SCHEME.sub(r"\1：", text)


def _unique_ids(svg: str) -> str:
    """Prefix every id (and its references) with one drawn from the SVG's bytes, so that two
    charts in one page never share an id."""
    ids = _ID.findall(svg)
    if not ids:
        return svg
    prefix = "c" + hashlib.sha256(svg.encode("utf-8")).hexdigest()[:10]
    for name in sorted(set(ids), key=len, reverse=True):
        svg = (
            svg.replace(f'id="{name}"', f'id="{prefix}-{name}"')
            .replace(f"url(#{name})", f"url(#{prefix}-{name})")
            .replace(f'href="#{name}"', f'href="#{prefix}-{name}"')
        )
    return svg


def external_urls(text: str) -> list[str]:
    """Every URL in `text` other than the SVG namespace (what a self-contained page must not
    have): schemes with `//`, protocol-relative `//host` in attributes, and `url(...)` that
    does not point inside the document."""
    found = [
        m.group(0)
        for m in re.finditer(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s\"'<>)]*", text)
        if m.group(0) != SVG_NAMESPACE
    ]
    found += re.findall(r"(?i)(?:href|src)\s*=\s*[\"']//[^\"']*", text)
    found += [u for u in re.findall(r"(?i)url\(\s*['\"]?([^)'\"]*)", text) if not u.startswith("#")]
    found += re.findall(r"(?i)@import", text)
    return found
