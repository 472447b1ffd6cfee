"""HTML files: visible text through the standard library's html.parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from gecko.rag.documents import Document
from gecko.rag.readers.base import decode_text, read_bytes

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "dd", "details", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v]+")
_PRE_NEWLINE = "\ue000"  # a private-use character: keeps <pre> line breaks out of the line cleanup


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
        if tag in _BLOCK and tag not in _VOID:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title.append(data)
            return
        if self._pre_depth:
            self.parts.append(data.replace("\n", _PRE_NEWLINE))
        else:
            self.parts.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> tuple[str, str]:
    """The visible text of ``html`` (paragraphs separated by blank lines) and its title."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    title = " ".join("".join(parser.title).split())
    return "\n\n".join(paragraphs).replace(_PRE_NEWLINE, "\n"), title


class HtmlReader:
    """One document with the page's visible text; scripts and styles are dropped.

    The ``<meta charset>`` declaration picks the encoding unless ``encoding`` is given.
    The page title, if any, goes to the ``title`` metadata.
    """

    def __init__(self, *, encoding: str | None = None) -> None:
        self.encoding = encoding

    def read(self, path: Path) -> list[Document]:
        data = read_bytes(path)
        encoding = self.encoding
        if encoding is None:
            declared = _CHARSET.search(data[:4096])
            encoding = declared.group(1).decode("ascii") if declared else "utf-8"
        text, title = html_to_text(decode_text(data, path, encoding=encoding))
        return [Document(text=text, metadata={"title": title} if title else {})]
