r"""The plan document as Markdown or as one self-contained HTML page.

Both renderers walk the same :class:`~compcalc.plandoc.model.Document`, so they state the
same facts. Markdown escapes every character of rule-file text that Markdown would read as
markup; HTML goes through a Jinja2 template with autoescaping on, inline CSS and no
external fetch of any kind.

>>> render_markdown(Document("Plan <b>", "S", ()))
'# Plan \\<b\\>\n\nS\n'
"""

from __future__ import annotations

import re

from ..statements.html import page_template
from .model import Block, Bullets, Document, Para, Quote, Section, Table

_ESCAPED = re.compile(r"[\\`*\[\]<>&|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ORDERED = re.compile(r"^(\d+)([.)])")


def escape_markdown(text: str) -> str:
    r"""Text that Markdown shows as written: markup characters get a backslash.

    >>> escape_markdown("a_b *c* <b>")
    'a_b \\*c\\* \\<b\\>'
    """
    return _ESCAPED.sub(lambda m: "\\" + m.group(0), _one_line(text))


def _line(text: str) -> str:
    r"""Markdown text that starts a line: a leading ``#``, ``-``, ``1.`` ... stays text.

    >>> _line("- 1") + " " + _line("2. x")
    '\\- 1 2\\. x'
    """
    if text[:1] in ("#", "+", "=", "-"):
        return "\\" + text
    return _ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _one_line(text: str) -> str:
    """Runs of ASCII whitespace (newlines included) as one space; ends kept. Other spaces
    (the no-break space a locale puts before a currency sign) stay as they are."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", text)


def code_span(text: str) -> str:
    """Text as a Markdown code span, fenced with enough backticks.

    >>> code_span("a`b")
    '``a`b``'
    """
    text = _one_line(text).strip()
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(document: Document) -> str:
    """The document as CommonMark with pipe tables (GitHub flavour)."""
    out = [f"# {escape_markdown(document.title)}", "", _line(escape_markdown(document.subtitle))]
    out.append("")
    for section in document.sections:
        out += _md_section(section, 2)
    for line in document.footer:
        out += ["---", "", _line(escape_markdown(line)), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _md_section(section: Section, level: int) -> list[str]:
    out = [f"{'#' * min(level, 6)} {escape_markdown(section.title)}", ""]
    for block in section.blocks:
        out += [*_md_block(block), ""]
    for child in section.sections:
        out += _md_section(child, level + 1)
    return out


def _md_para(para: Para) -> str:
    parts = []
    for span in para.spans:
        if span.kind == "code":
            parts.append(code_span(span.text))
        elif span.kind == "strong":
            parts.append(f"**{escape_markdown(span.text)}**")
        else:
            parts.append(escape_markdown(span.text))
    return "".join(parts)


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [_line(_md_para(block))]
    if isinstance(block, Bullets):
        return [f"- {_line(_md_para(item))}" for item in block.items]
    if isinstance(block, Table):
        return _md_table(block)
    return _md_quote(block)


def _md_table(table: Table) -> list[str]:
    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(escape_markdown(cell) for cell in cells) + " |"

    out = [f"*{escape_markdown(table.caption)}*", "", row(table.header)]
    out.append("|" + "|".join(" --- " for _ in table.header) + "|")
    out += [row(cells) for cells in table.rows]
    if table.note:
        out += ["", _line(escape_markdown(table.note))]
    return out


def _md_quote(quote: Quote) -> list[str]:
    head = (
        f"> **{escape_markdown(quote.period)} · {escape_markdown(quote.label)}: "
        f"{escape_markdown(quote.amount)}**"
    )
    return [head, ">", f"> {code_span(quote.formula)}"]


# --------------------------------------------------------------------------- HTML


def render_html(document: Document) -> str:
    """The document as one HTML page: inline CSS, no script, no external resource.

    Readable on a phone: wide tables scroll in their own box, long formulas wrap.
    """
    return page_template("plan.html.j2").render(doc=document)
