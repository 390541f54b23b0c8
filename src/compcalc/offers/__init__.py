"""Offer modelling against salary bands: compa-ratio, OTE, payout curves, expected pay, plots.

>>> import compcalc                                                          # doctest: +SKIP
>>> rules = compcalc.load_rules("rules/account_managers.yaml")               # doctest: +SKIP
>>> offer = compcalc.model_offer(rules, role="key_account_manager", seniority="senior",
...     company_size="large", region="metro", base="104000", quota="1200000")  # doctest: +SKIP
>>> offer.band.position, offer.ote, offer.at("1.5").total                 # doctest: +SKIP
"""

from .attainment import AttainmentSamples, NormalAttainment, read_attainments
from .bands import BandRow, band_for, band_rows
from .model import (
    BandCheck,
    CurvePoint,
    Expected,
    Offer,
    OfferResult,
    PastLedger,
    compare_offers,
    model_offer,
    parse_amount,
    read_offers,
    verdict,
)
from .plot import plot_offer, render_plot
from .render import render_bands, render_comparison, render_offer

__all__ = [
    "AttainmentSamples",
    "BandCheck",
    "BandRow",
    "CurvePoint",
    "Expected",
    "NormalAttainment",
    "Offer",
    "OfferResult",
    "PastLedger",
    "band_for",
    "band_rows",
    "compare_offers",
    "model_offer",
    "parse_amount",
    "plot_offer",
    "read_attainments",
    "read_offers",
    "render_bands",
    "render_comparison",
    "render_offer",
    "render_plot",
    "verdict",
]
