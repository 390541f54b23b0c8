"""Money, numbers, percentages, dates and formulas for people, in a locale (babel).

The result of a run is locale-free: amounts are exact Decimals and formulas are fixed text
(``106,000.00 / 12 = 8,833.34``, ``70.2%``). These functions only change how figures look,
never their value: every amount keeps all its places, a currency shows its own minor unit
(JPY 0, KWD 3) and a percentage keeps the places it was written with.

>>> money(Decimal("1234.50"), "EUR", "de_DE")
'1.234,50\\xa0€'
>>> localise_formula("106,000.00 / 12 = 8,833.34 (70.2% of quota, 2026-11)", "de_DE")
'106.000,00 / 12 = 8.833,34 (70,2\\xa0% of quota, 2026-11)'
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import NumberPattern, format_currency

HUNDRED = Decimal(100)
LOCALE_EXAMPLES = "en_US, en_GB, de_DE, fr_FR or ja_JP"

# A number as the engine writes it: optional minus, digits grouped by commas (or not), optional
# fraction after a point, optional percent sign. It must stand on its own: not glued to a word
# (T2026-11-0001, E002, x2), not part of a date or period (2026-11-02, 2026-11), a version
# (2026-27.1) or a ratio (30/30). A minus counts only right before the digits ("= -250.00");
# a spaced one ("17,666.67 - 8,833.33") is an operator and stays as it is.
_NUMBER = re.compile(
    r"(?<![\w.,/-])"
    r"(?P<sign>-?)(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<fraction>\d+))?(?P<percent>%?)"
    r"(?![\w/-]|[.,]\d)"
)


def canonical_locale(text: str) -> str:
    """The locale identifier babel knows ``text`` as (``de-DE`` and ``de_DE`` give ``de_DE``).

    Raises ``ValueError`` in plain words for anything babel does not know.

    >>> canonical_locale("ja-JP")
    'ja_JP'
    >>> canonical_locale("xx_YY")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown locale 'xx_YY': expected a locale such as en_US, ... or ja_JP
    """
    return str(_locale(text.strip()))


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*")


@cache
def _locale(text: str) -> Locale:
    try:
        # A language code first: babel 2.19 reads the POSIX "C" locale as en_US_POSIX.
        if not _LANGUAGE_TAG.fullmatch(text):
            raise ValueError(text)
        return Locale.parse(text, sep="-" if "-" in text else "_")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"unknown locale {text!r}: expected a locale such as {LOCALE_EXAMPLES}"
        ) from None


def money(amount: Decimal, currency: str, locale: str) -> str:
    """An exact amount in the locale's currency format, with the currency's own minor unit.

    An amount with more places than the currency has keeps them (nothing is rounded here).

    >>> money(Decimal("-1234.50"), "USD", "en_US")
    '-$1,234.50'
    >>> money(Decimal("1234567"), "JPY", "ja_JP")
    '￥1,234,567'
    >>> money(Decimal("12.345"), "KWD", "de_DE")
    '12,345\\xa0KWD'
    """
    shown = format_currency(amount, currency, locale=_locale(locale), decimal_quantization=False)
    return str(shown)


def decimal(value: Decimal, places: int, locale: str) -> str:
    """``value`` with exactly ``places`` decimals, grouped, in the locale's signs.

    >>> decimal(Decimal("1110000.00"), 2, "fr_FR")
    '1\\u202f110\\u202f000,00'
    """
    return _apply(_locale(locale).decimal_formats[None], value, places, locale)


def percent(value: Decimal, places: int, locale: str) -> str:
    """A fraction as a percentage with ``places`` decimals: 0.702 -> ``70.2%`` (en_US).

    >>> percent(Decimal("0.702"), 1, "de_DE")
    '70,2\\xa0%'
    """
    return _apply(_locale(locale).percent_formats[None], value, places, locale)


def _apply(pattern: NumberPattern, value: Decimal, places: int, locale: str) -> str:
    fixed = copy.copy(pattern)
    fixed.frac_prec = (places, places)
    return str(fixed.apply(value, _locale(locale)))


def date(iso: str, locale: str) -> str:
    """A ``YYYY-MM-DD`` date in the locale's medium format; other text is returned as is.

    >>> date("2026-11-02", "en_GB"), date("2026-11-02", "ja_JP"), date("soon", "de_DE")
    ('2 Nov 2026', '2026/11/02', 'soon')
    """
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return str(format_date(day, "medium", locale=_locale(locale)))


def localise_formula(text: str, locale: str) -> str:
    """``text`` with each number the engine wrote re-formatted in ``locale``.

    Grouped or decimal numbers keep their places (``1,110,000.00`` -> ``1.110.000,00`` in
    de_DE) and percentages theirs (``70.2%`` -> ``70,2 %``). Plain integers (counts such as
    ``12``), ids, dates and periods are left exactly as they are. In en_US the text comes back
    unchanged.

    >>> localise_formula("T7 33.34% share of 100.00 = 33.34; due 2026-11-30", "de_DE")
    'T7 33,34\\xa0% share of 100,00 = 33,34; due 2026-11-30'
    >>> localise_formula("installment 2 of 12, = -250.00", "fr_FR")
    'installment 2 of 12, = -250,00'
    """
    return _NUMBER.sub(lambda match: _localise_number(match, locale), text)


def _localise_number(match: re.Match[str], locale: str) -> str:
    whole, fraction = match["whole"], match["fraction"] or ""
    grouped = "," in whole
    if not (match["percent"] or fraction or grouped):
        return match[0]  # a count, a year, an id: not a figure to re-format
    value = Decimal(f"{match['sign']}{whole.replace(',', '')}.{fraction or '0'}")
    if match["percent"]:
        return percent(value / HUNDRED, len(fraction), locale)
    return decimal(value, len(fraction), locale)


def parse_percent(text: str) -> Decimal | None:
    """The fraction a locale-free percentage stands for (``70.2%`` -> 0.702), or None.

    >>> parse_percent("70.2%"), parse_percent("n/a")
    (Decimal('0.702'), None)
    """
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)%", text.strip())
    return Decimal(match.group(1)) / HUNDRED if match else None


def parse_figure(text: str) -> Decimal | None:
    """The value of a locale-free figure such as ``1,110,000.00``, or None.

    >>> parse_figure("1,110,000.00"), parse_figure("every period")
    (Decimal('1110000.00'), None)
    """
    match = re.fullmatch(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?", text.strip())
    return Decimal(match.group(0).replace(",", "")) if match else None
