"""HTML pay statements and the plan document in a real browser: Debian's headless chromium.

The shipped example's November 2026 statements (and the key account managers' plan document)
are written once per module and opened from ``file://`` URLs. The tests read the text
chromium renders (``element.text``: what a person sees, not the markup), take a screenshot
and check it is a real picture, and check the pages need no sideways scrolling on a
375-pixel phone screen.

Needs ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian packages ``chromium`` and
``chromium-driver``; ``.ci/run`` installs them). The driver is passed explicitly, so Selenium
Manager never downloads anything. Without them the tests are skipped, saying why, unless
``COMPCALC_TEST_BROWSER_REQUIRED=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import compcalc
from compcalc.plandoc import plan_document
from compcalc.statements.html import read_deals, write_statements_html

REPO = Path(__file__).resolve().parents[1]
LEDGERS = [REPO / "examples/ledger/2026-10.csv", REPO / "examples/ledger/2026-11.csv"]
REQUIRED_ENV = "COMPCALC_TEST_BROWSER_REQUIRED"
CHROMIUM = ("chromium", "/usr/bin/chromium")
CHROMEDRIVER = ("chromedriver", "/usr/bin/chromedriver")
PHONE_WIDTH = 375
EVIL_NAME = "<script>alert(1)</script> & Co"


def _find(names: tuple[str, str]) -> str | None:
    found = shutil.which(names[0])
    if found:
        return found
    return names[1] if os.access(names[1], os.X_OK) else None


def _unavailable() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (python3 -m pip install -e '.[test]')"
    if _find(CHROMIUM) is None or _find(CHROMEDRIVER) is None:
        return (
            "browser tests need Debian's chromium and chromedriver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One headless chromium for the whole module (starting one costs about a second)."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get(REQUIRED_ENV) == "1":
            pytest.fail(f"{REQUIRED_ENV}=1 but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(_find(CHROMIUM))
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=str(_find(CHROMEDRIVER))),
                               options=options)  # fmt: skip
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """November 2026's pages (E001 in en_US, E020 in de_DE), E001 named with markup."""
    folder = tmp_path_factory.mktemp("statements")
    rows = list(csv.DictReader(io.StringIO((REPO / "examples/roster.csv").read_text("utf-8"))))
    for row in rows:
        if row["employee_id"] == "E001":
            row["name"] = EVIL_NAME
    roster = folder / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    rules = compcalc.load_rules(REPO / "rules/account_managers.yaml")
    result = compcalc.run_period(rules, roster, LEDGERS, "2026-11")
    deals = read_deals(LEDGERS, rejected=result.rejected)
    write_statements_html(result, folder / "html", locale="en_US", locales={"E020": "de_DE"},
                          deals=deals)  # fmt: skip
    return folder / "html"


@pytest.fixture(scope="module")
def plan_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The key account managers' plan document: wide tables (salary bands, rate grids)."""
    rules = compcalc.load_rules(REPO / "rules/account_managers.yaml")
    path = tmp_path_factory.mktemp("plan") / "plan.html"
    path.write_text(plan_document(rules, role="key_account_manager", fmt="html"), "utf-8")
    return path


def _open(driver: Any, page: Path, width: int, height: int = 900) -> Any:
    driver.set_window_size(width, height)
    driver.get(page.as_uri())
    return driver


def _by_id(driver: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    text: str = driver.find_element(By.ID, element_id).text
    return text


def test_totals_and_a_formula_read_as_a_person_sees_them(driver: Any, pages: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, pages / "E001.html", 1200)
    # hand-checked in test_html_statements.py: 8,833.34 + 23,376.60 + 0.00 + 2,500.00
    # + 2,731.88 = 37,441.82
    assert _by_id(driver, "totals").splitlines() == [
        "Totals", "Pay code Amount", "base $8,833.34", "commission $23,376.60", "bonus $0.00",
        "allowance $2,500.00", "override $2,731.88", "Total $37,441.82",
        "The 13 lines below add up to this total.",
    ]  # fmt: skip
    formula = driver.find_elements(By.CSS_SELECTOR, "#line-1 .formula")[0].text
    assert formula == (
        "106,000.00 / 12 = 8,833.34 (installment 2 of 12 in the plan year, rounded "
        "cumulatively: 17,666.67 to date - 8,833.33 before)"
    )
    # a name with markup is shown as text, and nothing ran
    assert _by_id(driver, "name") == EVIL_NAME
    assert driver.execute_script("return document.querySelectorAll('script').length") == 0
    chart = driver.find_element(By.CSS_SELECTOR, "#to-date figcaption").text
    assert chart == (
        "commission: 70.2% of quota reached (779,220.00 credited of a 1,110,000.00 quota)"
    )


def test_a_german_statement_shows_german_figures(driver: Any, pages: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, pages / "E020.html", 1200)
    assert _by_id(driver, "total") == "6.282,54 $"  # chromium shows the no-break space as one
    formula = driver.find_element(By.CSS_SELECTOR, "#line-3 .formula").text
    assert formula.startswith("due on 56.700,00 credited (9,0 % of quota 630.000,00)")
    assert formula.endswith("= -736,00")


def test_screenshot_is_a_real_picture(driver: Any, pages: Path, tmp_path: Path) -> None:
    _open(driver, pages / "E001.html", 1000, 1200)
    shot = tmp_path / "E001.png"
    assert driver.save_screenshot(str(shot))
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
        assert rgb.size[0] >= 900 and rgb.size[1] >= 600
        colours = rgb.getcolors(maxcolors=rgb.size[0] * rgb.size[1])
    assert colours is not None and len(colours) > 16  # text, rules, shading: many colours
    pixels = rgb.size[0] * rgb.size[1]
    white = sum(count for count, colour in colours if min(colour) >= 250)
    inked = 1 - white / pixels
    assert 0.02 < inked < 0.6, f"{inked:.1%} of the screenshot is not white"


@pytest.mark.parametrize("page", ["E001.html", "E020.html", "E009.html", "index.html"])
def test_readable_at_phone_width_without_sideways_scrolling(
    driver: Any, pages: Path, page: str
) -> None:
    _open(driver, pages / page, PHONE_WIDTH, 800)
    inner, scroll = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner <= PHONE_WIDTH
    assert scroll <= inner, f"{page} is {scroll}px wide in a {inner}px window"
    assert _by_id(driver, "total" if page != "index.html" else "employees")


def test_plan_document_at_phone_width_scrolls_wide_tables_in_their_box(
    driver: Any, plan_page: Path
) -> None:
    _open(driver, plan_page, PHONE_WIDTH, 800)
    inner, scroll = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert scroll <= inner, f"the plan document is {scroll}px wide in a {inner}px window"
    # the salary bands (six columns) do not fit: their box scrolls, its caption stays in view
    scrolling, captions_right = driver.execute_script(
        "const boxes = Array.from(document.querySelectorAll('.scroll'));"
        "const caps = Array.from(document.querySelectorAll('figcaption'));"
        "return [boxes.filter(b => b.scrollWidth > b.clientWidth).length,"
        "        Math.max(...caps.map(c => c.getBoundingClientRect().right))];"
    )
    assert scrolling >= 1
    assert captions_right <= inner
