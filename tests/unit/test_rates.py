"""chalicelib/rates.py: every stage's shipping and tax files load, and bad ones stop the import."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib import rates
from chalicelib.errors import ValidationError
from scripts.project import load_config, stage_environment


@pytest.mark.parametrize("stage", list(load_config()["stages"]))
def test_every_stage_has_shipping_and_tax_files_that_load(stage):
    environment = stage_environment(stage)
    directory = rates.stage_directory(environment.get("RATES_STAGE") or stage)
    loaded = rates.load(directory, environment.get("CURRENCY", "USD"))
    assert rates.methods_for("US", loaded)
    # Every country shipped to has a tax entry (load checks it); the US has states.
    assert rates.tax_rate("US", "CA", loaded).rate == Decimal("0.0725")
    assert rates.tax_rate("US", "OR", loaded).rate == 0  # no sales tax in Oregon
    assert rates.tax_rate("DE", None, loaded) == rates.TaxRate(Decimal("0.19"), True)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "stage"
    shutil.copytree(rates.stage_directory("local"), target)
    return target


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("file", "change", "fault"),
    [
        ("shipping.json", lambda d: d["zones"][0]["methods"][0].update(price="5.999"), "price"),
        ("shipping.json", lambda d: d["zones"][1]["countries"].append("US"), "another zone"),
        ("shipping.json", lambda d: d["zones"][0]["countries"].append("JP"), "no entry"),
        ("shipping.json", lambda d: d["zones"][0]["countries"].append("UK"), "not an ISO"),
        ("shipping.json", lambda d: d.update(currency="EUR"), "currency"),
        (
            "shipping.json",
            lambda d: d["zones"][0]["methods"].append(d["zones"][0]["methods"][0]),
            "method id twice",
        ),
        (
            "shipping.json",
            lambda d: d["zones"][0]["methods"][0]["estimatedDays"].update(min=9),
            "min > max",
        ),
        ("tax.json", lambda d: d["countries"]["DE"].update(rate="19"), "rate"),
        ("tax.json", lambda d: d["countries"].pop("GB"), "GB has no entry"),
    ],
)
def test_an_invalid_file_stops_the_import_naming_the_file_and_the_fault(
    tmp_path, file, change, fault
):
    directory = _copy(tmp_path)
    _edit(directory / file, change)
    with pytest.raises(rates.RatesFileError) as raised:
        rates.load(directory)
    message = str(raised.value)
    assert str(directory / file) in message or "shipping.json" in message
    assert fault in message


def test_a_missing_file_or_broken_json_is_named(tmp_path):
    directory = _copy(tmp_path)
    (directory / "tax.json").unlink()
    with pytest.raises(rates.RatesFileError, match=r"tax\.json: missing"):
        rates.load(directory)
    (directory / "tax.json").write_text("{")
    with pytest.raises(rates.RatesFileError, match=r"tax\.json: not valid JSON"):
        rates.load(directory)


def test_the_default_method_is_the_cheapest_and_others_must_serve_the_country():
    assert rates.method_for("US", None).method_id == "pickup"
    assert rates.method_for("GB", None).method_id == "standard"
    assert rates.method_for("US", "express").price == Decimal("19.99")
    with pytest.raises(ValidationError) as wrong:
        rates.method_for("GB", "pickup")
    assert wrong.value.details["field"] == "shippingMethod"
    with pytest.raises(ValidationError) as nowhere:
        rates.method_for("JP", None)
    assert nowhere.value.details["field"] == "shippingAddress.country"


def test_a_region_without_its_own_rate_takes_the_countrys():
    assert rates.tax_rate("CA", "ON").rate == Decimal("0.13")
    assert rates.tax_rate("CA", "yt").rate == Decimal("0.05")  # no override: GST only
    assert rates.tax_rate("US", "ny").shipping_taxed is True
    assert rates.tax_rate("JP", None) == rates.NO_TAX
