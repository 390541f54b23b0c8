"""The store through the command line: ``run --store``, ``close`` and ``export``.

The shipped example (``rules/account_managers.yaml``, ``examples/roster.csv``,
``examples/ledger/2026-1{0,1,2}.csv``) is run from the repository root in-process through
:func:`compcalc.cli.main`, with the store a SQLite file in a temporary directory, and again
with the store a fresh PostgreSQL schema when ``COMPCALC_TEST_POSTGRES_URL`` is set (see
``conftest.py``). The October-November flow runs once per module and backend (``flow``); the
tests read its outcome.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli_run import Done, cli
from compcalc.cli import DEFAULT_STORE, build_parser
from compcalc.statements.model import PeriodResult
from compcalc.store.store import DEFAULT_URL, store_url

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
RULES = "rules/account_managers.yaml"
ROSTER = "examples/roster.csv"
LEDGERS = {
    "2026-10": ("examples/ledger/2026-10.csv",),
    "2026-11": ("examples/ledger/2026-10.csv", "examples/ledger/2026-11.csv"),
}
ID12 = "[0-9a-f]{12}"




def run_args(month: str, *extra: str) -> list[str]:
    ledger_args = [arg for name in LEDGERS[month] for arg in ("--ledger", name)]
    return ["run", "--rules", RULES, "--roster", ROSTER, *ledger_args, "--period", month, *extra]


@dataclass(frozen=True)
class Flow:
    url: str
    oct_run: Done
    nov_too_early: Done
    oct_closed: Done
    oct_again: Done
    nov_run: Done
    nov_plain: Done
    nov_export_open: Done
    nov_closed: Done
    csv_export: Done
    csv_file: Path
    json_export: Done


@pytest.fixture(scope="module")
def flow(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flow:
    """Run October, close it, run November, close it and export it, in that order."""
    tmp = tmp_path_factory.mktemp("store")
    url = module_store_url
    store = ("--store", url)
    csv_file = tmp / "out" / "2026-11-payroll.csv"
    csv_file.parent.mkdir()
    return Flow(
        url=url,
        oct_run=cli(run_args("2026-10", *store)),
        nov_too_early=cli(run_args("2026-11", *store)),
        oct_closed=cli(["close", "--period", "2026-10", *store]),
        oct_again=cli(run_args("2026-10", *store)),
        nov_run=cli(run_args("2026-11", "--format", "json", *store)),
        nov_plain=cli(run_args("2026-11", "--format", "json")),
        nov_export_open=cli(["export", "--period", "2026-11", "--format", "json", *store]),
        nov_closed=cli(["close", "--period", "2026-11", *store]),
        csv_export=cli(["export", "--period", "2026-11", "--format", "payroll-csv", *store,
                        "--out", str(csv_file)]),
        csv_file=csv_file,
        json_export=cli(["export", "--period", "2026-11", "--format", "json", *store]),
    )


def test_run_with_store_saves_a_draft(flow: Flow) -> None:
    assert flow.oct_run.code == 0
    shown = store_url(flow.url).render_as_string(hide_password=True)  # any password masked
    assert re.fullmatch(f"saved draft run ({ID12}) for 2026-10 in {re.escape(shown)}\n",
                        flow.oct_run.err)


def test_a_later_period_waits_for_the_earlier_to_close(flow: Flow) -> None:
    assert (flow.nov_too_early.code, flow.nov_too_early.out) == (1, "")
    assert flow.nov_too_early.err.endswith("close 2026-10 first\n")
    assert flow.nov_too_early.err.startswith("compcalc: period 2026-11 cannot run before")
    assert "Traceback" not in flow.nov_too_early.err


def test_close_names_the_draft_it_closed(flow: Flow) -> None:
    saved = re.search(f"saved draft run ({ID12})", flow.oct_run.err)
    assert saved is not None
    assert flow.oct_closed == Done(0, f"closed 2026-10: run {saved.group(1)}\n", "")


def test_a_closed_period_refuses_another_run(flow: Flow) -> None:
    assert (flow.oct_again.code, flow.oct_again.out) == (1, "")
    assert re.fullmatch(
        r"compcalc: period 2026-10 is closed \(run [0-9a-f]{64}\); "
        r"corrections go into the next open period\n",
        flow.oct_again.err,
    )


def test_november_from_the_store_equals_the_replay(flow: Flow) -> None:
    assert (flow.nov_run.code, flow.nov_plain.code) == (0, 0)
    assert flow.nov_run.out.encode("utf-8") == flow.nov_plain.out.encode("utf-8")
    assert re.fullmatch(f"saved draft run {ID12} for 2026-11 in .*\n", flow.nov_run.err)


def test_export_refuses_an_open_period(flow: Flow) -> None:
    assert flow.nov_export_open == Done(
        1, "", "compcalc: period 2026-11 is not closed; close it before exporting\n")
    assert flow.nov_closed.code == 0
    assert flow.nov_closed.out.startswith("closed 2026-11: run ")


def test_payroll_csv_export_reconciles_with_the_statements(flow: Flow) -> None:
    assert flow.csv_export == Done(0, "", f"wrote {flow.csv_file}\n")
    raw = flow.csv_file.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    statements = json.loads(flow.nov_plain.out)["statements"]
    sums: dict[str, Decimal] = {}
    for row in rows:
        sums[row["employee_id"]] = sums.get(row["employee_id"], Decimal(0)) + Decimal(
            row["amount"])
    assert sums == {s["employee_id"]: Decimal(s["total"]) for s in statements}
    # Omar Haddad: 1,285.20 of new credit, and the -736.00 clawback of a refunded October sale
    # on its own adjustment row, its minus sign intact.
    omar = next(s for s in statements if s["employee_id"] == "E020")
    codes = {line["amount"]: line["pay_code"] for line in omar["lines"]}
    assert codes["1285.20"] == "commission" and codes["-736.00"] == "adjustment"
    assert "E020,Omar Haddad,2026-11,commission,USD,1285.20,1\r\n" in raw
    assert "E020,Omar Haddad,2026-11,adjustment,USD,-736.00,1\r\n" in raw
    # Amounts are plain numbers: never quoted, never prefixed against formulas.
    for line in raw.split("\r\n")[1:-1]:
        assert re.fullmatch(r"-?\d+\.\d{2}", line.split(",")[-2]), line


def test_json_export_matches_the_csv(flow: Flow) -> None:
    assert flow.json_export.code == 0
    document: dict[str, Any] = json.loads(flow.json_export.out)
    rows = list(csv.DictReader(io.StringIO(flow.csv_file.read_text(encoding="utf-8"),
                                           newline="")))
    assert [(r["employee_id"], r["pay_code"], r["amount"]) for r in document["rows"]] == [
        (r["employee_id"], r["pay_code"], r["amount"]) for r in rows]
    assert document["period"]["label"] == "2026-11"


@pytest.mark.parametrize("month", ["2026-10", "2026-11", "2026-12"])
def test_from_dict_round_trips_the_golden_results(month: str) -> None:
    text = (GOLDEN / f"{month}.json").read_text(encoding="utf-8")
    assert PeriodResult.from_dict(json.loads(text)).to_json() == text


def test_close_and_export_errors_are_plain(
    new_store_url: Callable[[], str], tmp_path: Path
) -> None:
    url = new_store_url()  # an empty store, on each backend
    assert cli(["close", "--period", "2026-10", "--store", url]) == Done(
        1, "", "compcalc: period 2026-10 has no saved runs; nothing to close\n")
    assert cli(["export", "--period", "2026-10", "--format", "json", "--store", url]) == Done(
        1, "", "compcalc: period 2026-10 is not closed; close it before exporting\n")
    bad = cli(["close", "--period", "2026-10", "--store", "not a url"])
    assert (bad.code, bad.out) == (1, "")
    assert bad.err.startswith("compcalc: cannot open store: ")
    missing = cli(["close", "--period", "2026-10", "--store",
                   f"sqlite:///{tmp_path / 'no' / 'dir.db'}"])
    assert (missing.code, missing.out) == (1, "")
    assert missing.err.startswith("compcalc: cannot open store ")
    period = cli(["close", "--period", "2026-1x", "--store", url])
    assert (period.code, period.out) == (1, "")
    assert "expected YYYY-MM" in period.err


def test_store_option_defaults() -> None:
    parser = build_parser()
    assert DEFAULT_STORE == DEFAULT_URL
    run = ["run", "--rules", RULES, "--roster", ROSTER, "--ledger", "x.csv", "--period", "2026-10"]
    assert parser.parse_args(run).store is None  # no store unless asked for
    assert parser.parse_args([*run, "--store"]).store == DEFAULT_URL
    assert parser.parse_args([*run, "--store", "sqlite://"]).store == "sqlite://"
    assert parser.parse_args(["close", "--period", "2026-10"]).store == DEFAULT_URL
    export = parser.parse_args(["export", "--period", "2026-10", "--format", "payroll-csv"])
    assert (export.store, export.out) == (DEFAULT_URL, None)
