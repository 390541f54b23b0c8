"""`compcalc bands` and `compcalc offer` end to end on the flagship rules, as the README runs
them: text checked line by line, plots checked as real PNG/SVG files of the right size."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from compcalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
RULES = str(ROOT / "rules" / "account_managers.yaml")
OFFER = ["offer", "--rules", RULES, "--role", "key_account_manager", "--seniority", "senior",
         "--company-size", "large", "--region", "metro", "--quota", "1200000"]  # fmt: skip


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def plotted(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    folder = tmp_path_factory.mktemp("plots")
    code, out, err = run(*OFFER, "--base", "104000", "--plot", str(folder / "offer.png"))
    return code, out, err, folder


def test_offer_text_reads_as_a_verdict(plotted: tuple[int, str, str, Path]) -> None:
    code, out, err, folder = plotted
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Offer: senior key account manager, large company, metro"
    assert lines[3] == (
        "Verdict: Inside the band: $104,000.00 base is between the minimum $100,000.00 and "
        "the maximum $111,000.00 (compa-ratio 98.58 %)."
    )
    for expected in [
        "  midpoint           $105,500.00",
        "  compa-ratio        98.58 %  (base / midpoint)",
        "  range penetration  36.36 %  ((base - minimum) / (maximum - minimum))",
        "On-target pay (a year at 100 % of quota $1,200,000.00)",
        "  target variable     $39,000.00  (commission)",
        "  on-target earnings  $143,000.00",
        "  pay mix             73/27  (base/variable)",
        "  allowances          $22,425.00  (health, housing)",
        "  total at target     $165,425.00",
        "  0 %         $104,000.00       $0.00  $22,425.00  $126,425.00",
        "  100 %       $104,000.00  $39,000.00  $22,425.00  $165,425.00",
        "  200 %       $104,000.00  $60,000.00  $22,425.00  $186,425.00",
    ]:
        assert expected in lines, expected
    assert f"wrote {folder / 'offer.png'}" in err


def test_png_is_valid_and_1000_by_600(plotted: tuple[int, str, str, Path]) -> None:
    data = (plotted[3] / "offer.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (1000, 600)
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82"


def test_svg_is_valid_and_720_by_432_points(tmp_path: Path) -> None:
    target = tmp_path / "offer.svg"
    code, _, err = run(*OFFER, "--base", "115000", "--plot", str(target), "--format", "json")
    assert code == 0, err
    root = ET.fromstring(target.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "720pt", "432pt", "0 0 720 432")  # fmt: skip
    assert "Date" not in target.read_text()  # no timestamp: the same offer, the same bytes


def test_outside_the_band_is_said_plainly() -> None:
    code, out, _ = run(*OFFER, "--base", "96000")
    assert code == 0
    assert (
        "Verdict: Below the band: $96,000.00 base is $4,000.00 below the band's minimum of "
        "$100,000.00. An offer outside the band needs an exception under pay policy."
    ) in out.splitlines()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--seniority", "lead"),
         "compcalc: seniority 'lead' is not one the rules define; they define entry, mid, senior"),
        (("--role", "sales_rep"),
         "compcalc: the rules have no plan for role 'sales_rep'. Roles they define: "
         "business_development_manager, key_account_manager, national_account_manager, "
         "regional_account_manager, relationship_account_manager"),
        (("--base", "1.5e5"),
         "compcalc: base '1.5e5' is not an amount; write it like 104000 or 104000.00 (USD, at "
         "most 2 decimals)"),
    ],
)  # fmt: skip
def test_undefined_offers_name_what_exists(change: tuple[str, str], message: str) -> None:
    argv = [*OFFER, "--base", "104000"]
    argv[argv.index(change[0]) + 1] = change[1]
    code, out, err = run(*argv)
    assert (code, out, err.strip()) == (1, "", message)


def test_compare_prints_one_row_per_offer() -> None:
    code, out, err = run("offer", "--rules", RULES, "--compare",
                         str(ROOT / "examples" / "offers.csv"), "--format", "csv")  # fmt: skip
    assert code == 0, err
    rows = out.splitlines()
    assert rows[0].startswith("offer,role,seniority,company_size,region,base,quota,band_min,")
    assert len(rows) == 5
    assert rows[2].startswith(
        "B: midpoint,key_account_manager,senior,large,metro,105500,1200000,100000,105500,111000,"
        "inside,0,1.0000,0.5000,39000.00,144500.00,73/27,22425.00,166925.00,"
    )
    assert ",below,4000," in rows[1] and ",above,4000," in rows[4]


def test_bands_table_text_and_csv() -> None:
    code, out, _ = run("bands", "--rules", RULES, "--role", "key_account_manager",
                       "--as-of", "2026-10-01")  # fmt: skip
    assert code == 0
    assert (
        "  key_account_manager  senior     large         metro      $100,000.00  $105,500.00  "
        "$111,000.00  2026-10-01  2027-09-30"
    ) in out.splitlines()
    code, out, _ = run("bands", "--rules", RULES, "--format", "csv")
    assert out.splitlines()[0] == "role,seniority,company_size,region,min,mid,max,from,to"
    assert len(out.splitlines()) == 1 + 5 * 18
    code, _, err = run("bands", "--rules", RULES, "--as-of", "2028-01-01")
    assert code == 1 and "no salary band is in force on 2028-01-01" in err
