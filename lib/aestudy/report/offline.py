"""Which external resources would an HTML page load?  ``check_offline`` answers, so tests
can prove a report opens with no network."""

from __future__ import annotations

import html.parser
import re

__all__ = ["check_offline"]

_EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*?))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
# ES module loads inside inline <script type="module">: import ... from "x" / import("x")
_JS_MODULE_IMPORT = re.compile(
    r"""(?:\bimport\s*\(\s*|\bimport\s+(?:[\w*{}\s,]+\s+from\s+)?)["'`]((?:https?:)?//[^"'`]+)""",
    re.IGNORECASE,
)

# (tag, attribute) pairs whose value the browser fetches.
_LOAD_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),  # SVG <image>
    "use": ("href", "xlink:href"),  # SVG <use> of an external file
}


def _css_urls(css: str) -> list[str]:
    css = _CSS_COMMENT.sub("", css)
    found = [(m.start(), next(g for g in m.groups() if g is not None)) for m in _CSS_URL.finditer(css)]
    found += [(m.start(), m.group(1) or m.group(2)) for m in _CSS_IMPORT.finditer(css)]
    return [u.strip() for _, u in sorted(found)]


class _ResourceScanner(html.parser.HTMLParser):
    """Collects URLs a browser would load: tag attributes, CSS url()/@import."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in_style = False
        self._module_script = False

    def _add(self, value: str | None) -> None:
        if value and _EXTERNAL.match(value):
            self.urls.append(value.strip())

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        for name in _LOAD_ATTRS.get(tag, ()):
            value = a.get(name)
            if not value:
                continue
            if name == "srcset":
                for part in value.split(","):
                    self._add(part.strip().split(" ")[0])
            else:
                self._add(value)
        if "style" in a:
            for u in _css_urls(a["style"]):
                self._add(u)
        if tag == "style":
            self._in_style = True
        elif tag == "script":
            self._module_script = a.get("type", "").strip().lower() == "module"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        elif tag == "script":
            self._module_script = False

    def handle_data(self, data):
        if self._in_style:
            for u in _css_urls(data):
                self._add(u)
        elif self._module_script:
            for m in _JS_MODULE_IMPORT.finditer(data):
                self._add(m.group(1))


def check_offline(html_text: str) -> list[str]:
    """External URLs (``http(s)://`` or ``//``) the page would load; [] = self-contained.

    Looks at ``<script src>``, ``<link href>``, ``<img src/srcset>`` (and other
    media/embedding tags), CSS ``url(...)``/``@import`` in ``<style>`` and
    ``style=""``, and ES-module imports in ``<script type="module">``.  Plain
    hyperlinks (``<a href>``) and URL strings inside classic scripts (such as the
    inlined MathJax bundle) are not loads and are ignored.  Order kept, no
    duplicates.
    """
    scanner = _ResourceScanner()
    scanner.feed(html_text)
    scanner.close()
    return list(dict.fromkeys(scanner.urls))
