"""The plan document as plain data: sections of paragraphs, tables and quoted statement lines.

The document is built once from a rule set (and the engine's worked examples) and rendered
twice, to Markdown and to HTML, so both carry exactly the same facts. Text is kept as *spans*
(plain text, code for identifiers, strong for emphasis) and escaped only by the renderer.

>>> para = p("Applies to roster role ", code("sales_rep"), ".")
>>> para.text()
'Applies to roster role sales_rep.'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

SpanKind = Literal["text", "code", "strong"]


@dataclass(frozen=True)
class Span:
    """A run of text with one style: plain, an identifier (code) or emphasis (strong)."""

    kind: SpanKind
    text: str


@dataclass(frozen=True)
class Para:
    """A paragraph (or one item of a list): a sequence of spans."""

    spans: tuple[Span, ...]
    kind: Literal["para"] = "para"

    def text(self) -> str:
        """The paragraph's words without any styling."""
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class Bullets:
    """A list of short paragraphs."""

    items: tuple[Para, ...]
    kind: Literal["bullets"] = "bullets"


@dataclass(frozen=True)
class Table:
    """A table of text cells; the first column labels its row."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""  # one sentence under the table (how to read a missing cell ...)
    kind: Literal["table"] = "table"


@dataclass(frozen=True)
class Quote:
    """A statement line as the engine produced it: period, label, amount and formula (its
    figures in the rule set's locale, as a statement page shows them; as written in en_US)."""

    period: str
    label: str
    amount: str  # formatted money
    formula: str
    kind: Literal["quote"] = "quote"


Block = Para | Bullets | Table | Quote


@dataclass(frozen=True)
class Section:
    """A titled part of the document; ``anchor`` is a stable id (for HTML links)."""

    title: str
    anchor: str
    blocks: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Document:
    """The whole plan document: a title, a few lines about the rule set, then sections."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    lang: str = "en"
    footer: tuple[str, ...] = field(default=())

    def facts(self) -> Iterator[str]:
        """Every piece of text the document states, in order: the renderers must show each.

        >>> doc = Document("T", "S", (Section("A", "a", (p("x"),)),))
        >>> list(doc.facts())
        ['T', 'S', 'A', 'x']
        """
        yield self.title
        yield self.subtitle
        for section in self.sections:
            yield from _section_facts(section)
        yield from self.footer


def _section_facts(section: Section) -> Iterator[str]:
    yield section.title
    for block in section.blocks:
        if isinstance(block, Para):
            yield block.text()
        elif isinstance(block, Bullets):
            yield from (item.text() for item in block.items)
        elif isinstance(block, Table):
            yield block.caption
            yield from block.header
            for row in block.rows:
                yield from row
            if block.note:
                yield block.note
        else:
            yield from (block.period, block.label, block.amount, block.formula)
    for child in section.sections:
        yield from _section_facts(child)


# --------------------------------------------------------------------------- building text

Piece = str | Span


def code(text: str) -> Span:
    """An identifier from the rule file or roster (a role, a component id, a column)."""
    return Span("code", text)


def strong(text: str) -> Span:
    return Span("strong", text)


def spans(*pieces: Piece) -> tuple[Span, ...]:
    """Pieces as spans (plain strings become text spans); empty strings are dropped."""
    out = [piece if isinstance(piece, Span) else Span("text", piece) for piece in pieces]
    return tuple(span for span in out if span.text)


def p(*pieces: Piece) -> Para:
    """A paragraph from strings (plain text) and spans."""
    return Para(spans(*pieces))


def bullets(*items: Para) -> Bullets:
    return Bullets(tuple(items))
