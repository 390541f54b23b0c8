"""Commission in words: basis, flat rate or tiers and their method, quota, gate, cap, lines.

As ``engine/commission.py`` and ``engine/tiers.py`` pay it: due to date less paid to date,
itemised in a fixed order; marginal, retroactive and per-transaction tiers; a gate at or
above which everything due is paid; a cap per plan year (forfeited) or per period (deferred).

>>> commission_words(component, words)                                   # doctest: +SKIP
"""

from __future__ import annotations

from ..rules.schema import Commission
from .model import Block, Para, Table, code, p, strong
from .phrases import dated_note, label_of, quota_words, with_tables
from .words import Format, Value, Words


def commission_words(component: Commission, words: Words) -> list[Block]:
    label = label_of(component)
    basis = "margin" if component.basis == "margin" else "amount"
    if component.basis == "margin":
        opening = p(
            "Commission is paid on the margin of dispute-free sales credited in the plan year "
            "(ledger column ",
            code("margin"),
            "; a sale without one counts as 0). A partial "
            "refund reduces a sale's margin in proportion: margin x amount left / sale amount.",
        )
    else:
        opening = p(
            "Commission is paid on dispute-free sales credited in the plan year: each sale "
            "counts at its amount less any refunds."
        )
    blocks: list[Block] = [
        opening,
        p(
            "It is paid to date: every pay period works out the commission due on all credit "
            "of the plan year so far and pays the difference from what was paid before."
        ),
    ]
    values: list[Value] = []
    if component.rate is not None:
        rate = words.param(component.rate, words.rate, f"{label}: rate", "Rate")
        values.append(rate)
        blocks += with_tables(p(f"Rate, on the whole credited {basis}: {rate.text}."), rate)
    else:
        assert component.tiers is not None
        tier_blocks, tier_values = _tiers(component, words, basis)
        blocks += tier_blocks
        values += tier_values
    if _uses_attainment(component):
        quota_blocks, quota = quota_words(component.quota, words, label, basis)
        blocks += quota_blocks
        values += quota
    if component.gate is not None:
        gate = words.param(component.gate, words.rate, f"{label}: gate", "Gate")
        values.append(gate)
        blocks += with_tables(_gate_sentence(gate), gate)
    if component.cap is not None:
        cap = words.param(component.cap.amount, words.money, f"{label}: cap", "Cap")
        values.append(cap)
        blocks += with_tables(_cap_sentence(component.cap.per, cap), cap)
    blocks.append(_itemised(component))
    return blocks + dated_note(*values)


def _uses_attainment(component: Commission) -> bool:
    tiers = component.tiers
    return component.gate is not None or (tiers is not None and tiers.measure == "attainment")


METHOD_WORDS = {
    "marginal": (
        "Tiers are marginal: each slice of {measure} is paid at its own band's rate, like "
        "income-tax brackets; reaching a band changes the rate only on the part above the "
        "band's start."
    ),
    "retroactive": (
        "Tiers are retroactive: once a band is reached, all credit of the plan year earns its "
        "rate, and the difference on earlier credit is paid as a tier true-up. If refunds or "
        "disputes later take {measure} back below the band, the re-rating is reversed by a "
        "negative tier true-up."
    ),
    "per_transaction": (
        "Tiers are per transaction: the bands restart at zero for every sale, each sale is cut "
        "into slices by its own size and each slice earns its band's rate; the commission is "
        "the sum over all sales of the plan year. A partial refund re-cuts that one sale at its "
        "reduced size."
    ),
}


def _tiers(component: Commission, words: Words, basis: str) -> tuple[list[Block], list[Value]]:
    tiers = component.tiers
    assert tiers is not None
    label = label_of(component)
    intro, unit, edge = _measure(tiers.measure, tiers.method.value, basis, words)
    measure = "attainment" if tiers.measure == "attainment" else f"credited {basis}"
    blocks: list[Block] = [
        p(intro + " " + METHOD_WORDS[tiers.method.value].format(measure=measure))
    ]
    rows, values, extra = [], [], []
    for index, band in enumerate(tiers.bands):
        where = f"{label}: band {band.id}"
        start = words.param(band.from_, edge, f"{where}, from", "From")
        end = None if band.to is None else words.param(band.to, edge, f"{where}, to", "To")
        rate = words.param(band.rate, words.rate, f"{where}, rate", "Rate")
        values += [start, rate] + ([end] if end is not None else [])
        extra += [*start.tables, *(end.tables if end else ()), *rate.tables]
        last = index == len(tiers.bands) - 1
        upper = "no upper limit" if last or end is None else end.text
        rows.append((band.id, start.text, upper, rate.text))
    method = tiers.method.value.replace("_", " ")
    header = ("Band", f"From ({unit})", "To", "Rate")
    blocks += [Table(f"{label}: {method} tiers", header, tuple(rows)), *extra]
    blocks.append(
        p(
            "A band starts at its From value (at or above counts) and ends just below its To "
            "value, where the next band starts. Comparisons are exact."
        )
    )
    return blocks, values


def _measure(measure: str, method: str, basis: str, words: Words) -> tuple[str, str, Format]:
    """What the band edges measure: the opening sentence, the From column's unit, the format."""
    per_sale = method == "per_transaction"
    if measure == "attainment":
        if per_sale:
            intro = "The bands are shares of the annual quota, measured on each sale alone."
            return intro, "each sale as a share of the annual quota", words.rate
        intro = (
            f"The rate depends on attainment: credited {basis} to date as a share of the "
            "annual quota."
        )
        return intro, "share of quota", words.rate
    if per_sale:
        return "The bands are amounts of money within each sale.", "within each sale", words.money
    intro = f"The rate depends on the {basis} credited to date this plan year."
    return intro, f"{basis} credited to date", words.money


def _gate_sentence(gate: Value) -> Para:
    return p(
        strong("Gate"),
        f" (a share of the annual quota): {gate.text}. Nothing is paid until attainment to date "
        "reaches the gate (at or above counts). Below it commission waits; nothing is lost. "
        "In the period the "
        "gate is reached, all commission due to date is paid at once, the part for earlier "
        "credit as a tier true-up. If refunds or disputes later take attainment back below "
        "the gate, the commission already paid is taken back.",
    )


def _cap_sentence(per: str, cap: Value) -> Para:
    if per == "plan_year":
        return p(
            strong("Cap"),
            f" for the plan year: {cap.text}. The commission due for the plan year never "
            "exceeds the cap; anything above is forfeited, not carried into the next plan year.",
        )
    return p(
        strong("Cap"),
        f" per pay period: {cap.text}. No pay period pays more than the cap on this "
        "commission. The excess is deferred and paid in later periods of the plan year that "
        "have room under their own cap; whatever is still deferred when the plan year ends is "
        "forfeited.",
    )


def _itemised(component: Commission) -> Para:
    steps = [
        "true-up of earlier periods",
        "clawback of paid sales refunded this period",
        "sales held back by a dispute opened this period",
        "sales released by a dispute resolved this period",
        "commission on new dispute-free sales",
        "tier true-up (earlier credit re-rated by a band or gate reached or lost)",
    ]
    if component.cap is not None and component.cap.per == "period":
        steps.append("the per-period cap")
    return p(
        "On the statement the period's commission is itemised in this order: "
        + "; ".join(steps)
        + ". Each line names the sales behind it."
    )
