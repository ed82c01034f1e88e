"""The data directory's currency table: written, read back, malformed files refused."""

from pathlib import Path

import pytest

from marketlift.errors import ConfigError
from marketlift.lake import CURRENCIES_FILE, load_currency_table, write_currency_table


def test_round_trip(tmp_path: Path) -> None:
    assert load_currency_table(tmp_path) is None
    write_currency_table(tmp_path, {"EUR": 1.0, "USD": 1.087, "JPY": 163.0}, reporting="EUR")
    table = load_currency_table(tmp_path)
    assert table is not None
    assert table.reporting == "EUR"
    assert dict(table.rates) == {"EUR": 1.0, "USD": 1.087, "JPY": 163.0}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('reporting = "USD"\n[rates]\nUSD = 1.0\nEUR = 0\n', "rates.EUR"),
        ('reporting = "USD"\n[rates]\nEUR = 0.9\n', "rates.USD"),
        ('reporting = "dollars"\n[rates]\nUSD = 1.0\n', "reporting"),
        ('reporting = "USD"\nrate = 1\n[rates]\nUSD = 1.0\n', "key"),
        ('reporting = "USD"\n[rates]\nUSD = "one"\n', "rates.USD"),
        ("reporting = \n", "valid TOML"),
    ],
)
def test_malformed_files_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    (tmp_path / CURRENCIES_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        load_currency_table(tmp_path)
