"""The currency table of a data directory: one setting that every revenue readout uses.

Revenue in several currencies can only be summed after conversion to one reporting currency.
The table lives in ``DATA/currencies.toml`` and is read by ``marketlift experiment analyze``
and ``report``, the dashboard and the demo alike::

    reporting = "USD"          # the currency revenue is reported in

    [rates]                    # units of each currency per one unit of the reporting currency
    USD = 1.0
    EUR = 0.92
    JPY = 150.0

Without the file, readouts of a lake whose purchases use several currencies are flagged
``mixed_currencies`` (and the table view says so in red).

Example:
    >>> import tempfile
    >>> data = tempfile.mkdtemp()
    >>> load_currency_table(data) is None
    True
    >>> _ = write_currency_table(data, {"USD": 1.0, "EUR": 0.92})
    >>> load_currency_table(data)
    CurrencyTable(reporting='USD', rates={'USD': 1.0, 'EUR': 0.92})
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from marketlift.errors import ConfigError

__all__ = ["CURRENCIES_FILE", "CurrencyTable", "load_currency_table", "write_currency_table"]

CURRENCIES_FILE: Final = "currencies.toml"
"""Name of the currency table inside the data directory."""


@dataclass(frozen=True)
class CurrencyTable:
    """Rates to one reporting currency.

    Attributes:
        reporting: ISO 4217 code revenue is reported in; its rate is 1.
        rates: Units of each currency per one unit of ``reporting``.
    """

    reporting: str
    rates: Mapping[str, float]


def _check(reporting: object, rates: object, where: str) -> CurrencyTable:
    if not isinstance(reporting, str) or len(reporting) != 3 or not reporting.isalpha():
        raise ConfigError(f"{where}reporting", reporting, "a 3-letter ISO 4217 code like 'USD'")
    if not isinstance(rates, Mapping) or not rates:
        raise ConfigError(f"{where}rates", rates, "a table of currency = rate")
    out: dict[str, float] = {}
    for code, rate in rates.items():
        if not isinstance(code, str) or len(code) != 3 or not code.isalpha():
            raise ConfigError(f"{where}rates", code, "3-letter ISO 4217 codes as keys")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise ConfigError(f"{where}rates.{code}", rate, "a rate > 0")
        if not math.isfinite(rate):
            raise ConfigError(f"{where}rates.{code}", rate, "a finite rate")
        out[code] = float(rate)
    if out.get(reporting) != 1.0:
        raise ConfigError(
            f"{where}rates.{reporting}", out.get(reporting), "1.0 for the reporting currency"
        )
    return CurrencyTable(reporting=reporting, rates=out)


def load_currency_table(data_dir: str | os.PathLike[str]) -> CurrencyTable | None:
    """Read ``DATA/currencies.toml``; ``None`` when the data directory has none.

    Raises:
        ConfigError: A malformed file, naming the key, the value and what was expected.
    """
    path = Path(data_dir) / CURRENCIES_FILE
    if not path.is_file():
        return None
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), str(err), "valid TOML") from err
    unknown = sorted(set(doc) - {"reporting", "rates"})
    if unknown:
        raise ConfigError(f"{path}: key", unknown[0], "only 'reporting' and 'rates'")
    return _check(doc.get("reporting"), doc.get("rates"), f"{path}: ")


def write_currency_table(
    data_dir: str | os.PathLike[str], rates: Mapping[str, float], reporting: str = "USD"
) -> Path:
    """Write (or replace) the data directory's currency table; returns its path."""
    table = _check(reporting, rates, "")
    lines = [
        f'reporting = "{table.reporting}"',
        "",
        "[rates]  # units of each currency per one unit of the reporting currency",
        *(f"{c} = {r!r}" for c, r in table.rates.items()),
    ]
    path = Path(data_dir) / CURRENCIES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
