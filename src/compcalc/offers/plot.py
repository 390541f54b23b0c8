"""The offer as a picture: total annual pay against quota attainment, written to PNG or SVG.

Base, variable pay and allowances are stacked; the band's minimum, midpoint and maximum are
reference lines for the base; the on-target point is marked. Money on the axis is formatted
by babel in the rule set's locale. Drawn with matplotlib's object API on the Agg canvas: no
display, no pyplot, no global figure state; the file is the same bytes for the same offer.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel.numbers import get_decimal_symbol

from ..errors import CompcalcError
from ..statements.files import write_atomic
from .model import OfferResult

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 6.0, 100  # a 1000 x 600 pixel PNG; 720 x 432 pt SVG
FORMATS = ("png", "svg")


def plot_offer(result: OfferResult, path: str | Path) -> Path:
    """Draw ``result`` to ``path`` (``.png`` or ``.svg``), atomically; returns the path."""
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CompcalcError(f"the plot is written as PNG or SVG: name it .png or .svg, not {path}")
    write_atomic(target, render_plot(result, fmt))
    return target


def render_plot(result: OfferResult, fmt: str) -> bytes:
    """The plot's file content in ``fmt`` (png or svg)."""
    import io

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    from .render import money_text

    # Fixed ids in the SVG (same bytes every time), text as paths (no font needed to view).
    with matplotlib.rc_context({"svg.hashsalt": "compcalc", "svg.fonttype": "path"}):
        figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        # float-ok: plotting (the figures are exact Decimals; the drawing needs floats)
        x = [float(p.attainment * 100) for p in result.curve]  # float-ok: plotting only
        base = [float(p.base) for p in result.curve]  # float-ok: plotting only
        variable = [float(p.variable) for p in result.curve]  # float-ok: plotting only
        allowances = [float(p.allowances) for p in result.curve]  # float-ok: plotting only
        axes.stackplot(
            x, base, variable, allowances,
            labels=("base", "variable (commission, bonus)", "allowances"),
            colors=("#4c72b0", "#55a868", "#c9c9c9"), alpha=0.85,
        )  # fmt: skip
        band = result.band
        # Labels: the maximum above its line and the minimum below its line at the right,
        # the midpoint at the left, so that close lines keep readable labels.
        marks = (
            (band.max, "band maximum", ":", (x[-1], (-4, 3), "right", "bottom")),
            (band.mid, "band midpoint", "--", (x[0], (4, 3), "left", "bottom")),
            (band.min, "band minimum", ":", (x[-1], (-4, -3), "right", "top")),
        )
        for value, name, style, (at, offset, align, vertical) in marks:
            level = float(value)  # float-ok: plotting only
            axes.axhline(level, color="#8c1c13", linestyle=style, linewidth=1.2)
            axes.annotate(
                f"{name} {money_text(value, result.currency, result.locale)}",
                (at, level), xytext=offset, textcoords="offset points",
                ha=align, va=vertical, fontsize=8, color="#8c1c13",
            )  # fmt: skip
        ote = float(result.ote)  # float-ok: plotting only
        axes.plot([100.0], [ote], marker="o", color="black", zorder=5)
        axes.annotate(
            f"OTE {money_text(result.ote, result.currency, result.locale)} at 100 %",
            (100.0, ote), xytext=(8, -14), textcoords="offset points", fontsize=9,
        )  # fmt: skip

        def currency_tick(value: float, _position: object) -> str:
            whole = Decimal(float(value)).quantize(Decimal(1), ROUND_HALF_UP)  # float-ok: plot
            text = str(money_text(whole, result.currency, result.locale))
            # Drop the minor digits in the locale's own decimal sign (de_DE: "104.000,00 €").
            head, _, tail = text.partition(get_decimal_symbol(result.locale))
            return head + "".join(c for c in tail if not c.isdigit())

        axes.yaxis.set_major_formatter(FuncFormatter(currency_tick))
        axes.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        axes.set_xlim(x[0], x[-1])
        top = max(max(p.total for p in result.curve), band.max, result.ote)
        axes.set_ylim(0.0, float(top) * 1.08)  # float-ok: plotting
        axes.set_xlabel("Quota attainment (credited sales / annual quota)")
        axes.set_ylabel(f"Total annual pay ({result.currency})")
        offered = money_text(result.offer.base, result.currency, result.locale)
        axes.set_title(
            f"{result.offer.describe()}: {offered} base, plan year "
            f"{result.plan_year_start} to {result.plan_year_end}",
            fontsize=10,
        )
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
