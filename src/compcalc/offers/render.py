"""Offers and bands as text for a person, JSON for a program, CSV for a spreadsheet.

Money is shown with babel in the rule set's locale (``$104,000.00`` for en_US); ratios as
percentages of their exact 4-decimal values (a compa-ratio of 0.9858 is ``98.58 %``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal

from babel.numbers import format_currency

from .bands import BandRow
from .model import OfferResult, verdict

HUNDRED = Decimal(100)


def money_text(amount: Decimal, currency: str, locale: str) -> str:
    """``$104,000.00``: an exact amount in the locale's currency format."""
    return str(format_currency(amount, currency, locale=locale))


def percent_text(ratio: Decimal | None) -> str:
    """A ratio as a percentage with its exact decimals: 0.9858 -> ``98.58 %``."""
    if ratio is None:
        return "n/a"
    return f"{(ratio * HUNDRED).quantize(Decimal('0.01')):f} %"


def attainment_text(attainment: Decimal) -> str:
    """1.05 -> ``105 %``; 0.025 -> ``2.5 %``."""
    return f"{(attainment * HUNDRED).normalize():f} %"


def render_offer(result: OfferResult, *, every: int = 1) -> str:
    """The whole report on one offer; ``every`` thins the curve table (every n-th point)."""
    m = _money(result)
    offer, band = result.offer, result.band
    until = band.effective_to or "open-ended"
    out = [
        f"Offer: {offer.describe()}",
        f"Rules: {result.ruleset_id} version {result.ruleset_version} "
        f"(sha256 {result.ruleset_sha256[:12]}), plan year {result.plan_year_start} to "
        f"{result.plan_year_end}",
        "",
        f"Verdict: {verdict(result)}",
        "",
        f"Salary band (annual base, in force {band.effective_from} to {until})",
    ]
    out += _table([
        ("minimum", m(band.min)),
        ("midpoint", m(band.mid)),
        ("maximum", m(band.max)),
        ("offered base", m(offer.base)),
        ("position", band.position + (f" by {m(band.outside_by)}" if band.outside_by else "")),
        ("compa-ratio", f"{percent_text(band.compa_ratio)}  (base / midpoint)"),
        ("range penetration",
         f"{percent_text(band.range_penetration)}  ((base - minimum) / (maximum - minimum))"),
    ])  # fmt: skip
    quota = f" of quota {m(result.quota)}" if result.quota is not None else ""
    variable = ", ".join(result.variable_components) or "none"
    allowances = ", ".join(result.allowance_components) or "none"
    out += ["", f"On-target pay (a year at 100 %{quota})"]
    out += _table([
        ("base", m(result.base)),
        ("target variable", f"{m(result.target_variable)}  ({variable})"),
        ("on-target earnings", m(result.ote)),
        ("pay mix", f"{result.pay_mix[0]}/{result.pay_mix[1]}  (base/variable)"),
        ("allowances", f"{m(result.allowances)}  ({allowances})"),
        ("total at target", m(result.total_at_target)),
    ])  # fmt: skip
    if result.expected is not None:
        e = result.expected
        out += ["", f"Expected annual pay ({e.source})"]
        out += _table([
            ("10th percentile", f"{m(e.p10)}  (at {attainment_text(e.attainment_p10)})"),
            ("median", f"{m(e.median)}  (at {attainment_text(e.attainment_median)})"),
            ("90th percentile", f"{m(e.p90)}  (at {attainment_text(e.attainment_p90)})"),
            ("mean", m(e.mean)),
        ])  # fmt: skip
    out += ["", "Payout curve: total annual pay by quota attainment"]
    out += _curve_table(result, every)
    out += ["", *(f"Note: {note}" for note in result.notes)]
    return "\n".join(out) + "\n"


def _curve_table(result: OfferResult, every: int) -> list[str]:
    m = _money(result)
    header = ("attainment", "base", "variable", "allowances", "total")
    rows = [
        (attainment_text(p.attainment), m(p.base), m(p.variable), m(p.allowances), m(p.total))
        for k, p in enumerate(result.curve)
        if k % every == 0 or p.attainment == 1
    ]
    return _columns(header, rows)


COMPARE_COLUMNS = (
    "offer", "role", "seniority", "company_size", "region", "base", "quota", "band_min",
    "band_mid", "band_max", "position", "outside_by", "compa_ratio", "range_penetration",
    "target_variable", "ote", "pay_mix", "allowances", "total_at_target", "pay_at_50",
    "pay_at_150", "pay_at_200", "expected_p10", "expected_median", "expected_p90",
)  # fmt: skip


def comparison_rows(results: Sequence[OfferResult]) -> list[dict[str, str]]:
    """One row per offer with the figures of the report, exact amounts as plain text."""
    rows = []
    for r in results:
        e = r.expected
        rows.append({
            "offer": r.offer.label, "role": r.offer.role, "seniority": r.offer.seniority,
            "company_size": r.offer.company_size, "region": r.offer.region,
            "base": f"{r.offer.base:f}", "quota": "" if r.quota is None else f"{r.quota:f}",
            "band_min": f"{r.band.min:f}", "band_mid": f"{r.band.mid:f}",
            "band_max": f"{r.band.max:f}", "position": r.band.position,
            "outside_by": f"{r.band.outside_by:f}", "compa_ratio": f"{r.band.compa_ratio:f}",
            "range_penetration": "" if r.band.range_penetration is None
            else f"{r.band.range_penetration:f}",
            "target_variable": f"{r.target_variable:f}", "ote": f"{r.ote:f}",
            "pay_mix": f"{r.pay_mix[0]}/{r.pay_mix[1]}", "allowances": f"{r.allowances:f}",
            "total_at_target": f"{r.total_at_target:f}",
            "pay_at_50": f"{r.at(Decimal('0.5')).total:f}",
            "pay_at_150": f"{r.at(Decimal('1.5')).total:f}",
            "pay_at_200": f"{r.at(Decimal('2')).total:f}",
            "expected_p10": "" if e is None else f"{e.p10:f}",
            "expected_median": "" if e is None else f"{e.median:f}",
            "expected_p90": "" if e is None else f"{e.p90:f}",
        })  # fmt: skip
    return rows


def render_comparison(results: Sequence[OfferResult], fmt: str) -> str:
    """Offers side by side: ``text`` (one row per offer), ``json`` or ``csv``."""
    if fmt == "json":
        data = [r.to_dict() for r in results]
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv(list(COMPARE_COLUMNS), [list(row.values()) for row in comparison_rows(results)])
    m = _money(results[0])
    header: tuple[str, ...] = (
        "offer", "base", "band", "position", "compa", "penetration", "OTE", "mix",
        "allowances", "at 50 %", "at 150 %",
    )  # fmt: skip
    expected = any(r.expected is not None for r in results)
    if expected:
        header += ("expected median", "p10 - p90")
    rows = []
    for r in results:
        row: tuple[str, ...] = (
            r.offer.describe(), m(r.offer.base), f"{m(r.band.min)} - {m(r.band.max)}",
            r.band.position + (f" by {m(r.band.outside_by)}" if r.band.outside_by else ""),
            percent_text(r.band.compa_ratio), percent_text(r.band.range_penetration),
            m(r.ote), f"{r.pay_mix[0]}/{r.pay_mix[1]}", m(r.allowances),
            m(r.at(Decimal("0.5")).total), m(r.at(Decimal("1.5")).total),
        )  # fmt: skip
        if expected:
            e = r.expected
            row += ("", "") if e is None else (m(e.median), f"{m(e.p10)} - {m(e.p90)}")
        rows.append(row)
    verdicts = [f"{r.offer.describe()}: {verdict(r)}" for r in results]
    return "\n".join([*_columns(header, rows), "", *verdicts]) + "\n"


def render_bands(rows: Sequence[BandRow], fmt: str, currency: str, locale: str) -> str:
    """The band table: ``text`` for people, ``json`` or ``csv`` (exact amounts as text)."""
    names = [name for name, _ in rows[0].dimensions] if rows else []
    plain = [
        {
            "role": row.role, **dict(row.dimensions), "min": f"{row.min:f}",
            "mid": f"{row.mid:f}", "max": f"{row.max:f}", "from": row.effective_from.isoformat(),
            "to": row.effective_to.isoformat() if row.effective_to else "",
        }
        for row in rows
    ]  # fmt: skip
    if fmt == "json":
        return json.dumps(plain, indent=2, ensure_ascii=False) + "\n"
    header = ["role", *names, "min", "mid", "max", "from", "to"]
    if fmt == "csv":
        return _csv(header, [[p[h] for h in header] for p in plain])
    text_rows = [
        (row.role, *(v for _, v in row.dimensions), money_text(row.min, currency, locale),
         money_text(row.mid, currency, locale), money_text(row.max, currency, locale),
         row.effective_from.isoformat(),
         row.effective_to.isoformat() if row.effective_to else "open-ended")
        for row in rows
    ]  # fmt: skip
    return "\n".join(_columns(tuple(header), text_rows, left=1 + len(names))) + "\n"


def _money(result: OfferResult):  # type: ignore[no-untyped-def]
    return lambda amount: money_text(amount, result.currency, result.locale)


def _table(pairs: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in pairs)
    return [f"  {label:<{width}}  {value}" for label, value in pairs]


def _columns(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], left: int = 1
) -> list[str]:
    """Aligned columns: the first ``left`` (text) to the left, the figures to the right."""
    widths = [max(len(r[k]) for r in (header, *rows)) for k in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [
            cell.ljust(w) if k < left else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
