"""What the sweep commands share: reading a committed file, the seed range, the rounding, and the
write that happens only when the whole table was made."""

import argparse
import hashlib
import math
from pathlib import Path

import pandas as pd
import pytest

from radon_utils._sweep_common import (
    DIGITS,
    add_seed_range,
    not_finite,
    read_sweep,
    round_measured,
    seed_range,
    write_when_complete,
)
from radon_utils.machine import floating_point_environment, package_versions, read_provenance


def test_read_sweep_names_the_command_when_the_file_is_missing_or_old(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the files are found from
    with pytest.raises(ValueError, match=r"regenerate it with `make x` \(a minute\)"):
        read_sweep(Path("none.csv"), None, ["a"], command="make x", takes="a minute")
    old = tmp_path / "old.csv"
    old.write_text("a,b\n1,\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) c: it is from an older x; run"):
        read_sweep(Path("old.csv"), old, ["a", "c"], command="make x", older="x")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) c: run `make x`"):
        read_sweep(Path("old.csv"), old, ["c"], command="make x")
    table = read_sweep(Path("old.csv"), None, ["a", "b"], command="make x", na_values=["1"])
    assert table["a"].isna().all(), "read_csv's arguments are passed on"


def test_seed_range_takes_the_defaults_and_refuses_a_bad_range(capsys):
    parser = argparse.ArgumentParser()
    add_seed_range(parser, range(1, 11))
    assert seed_range(parser, parser.parse_args([])) == range(1, 11)
    assert seed_range(parser, parser.parse_args(["--first", "0", "--last", "0"])) == range(0, 1)
    for argv in (["--first", "-1"], ["--first", "5", "--last", "4"]):
        with pytest.raises(SystemExit):
            seed_range(parser, parser.parse_args(argv))
    assert "must not be below --first (5)" in capsys.readouterr().err


def test_not_finite_lists_missing_text_and_non_finite_numbers():
    row = {"a": 1, "b": 2.5, "c": math.nan, "d": math.inf, "e": "x", "f": None}
    assert not_finite(row, ["a", "b", "c", "d", "e", "f", "g"]) == ["c", "d", "e", "f", "g"]


def test_round_measured_keeps_digits_and_empty_cells():
    table = pd.DataFrame({"x": [1 / 3, math.nan], "n": [123456789, 2]})
    rounded = round_measured(table, ["x"])
    assert rounded.loc[0, "x"] == float(f"{1 / 3:.{DIGITS}g}") and math.isnan(rounded.loc[1, "x"])
    assert rounded["n"].tolist() == [123456789, 2], "other columns are left alone"
    assert table.loc[0, "x"] == 1 / 3, "the table given is not changed"


def test_write_when_complete_writes_a_whole_table_or_nothing(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    out.write_text("old\n")

    def stopped() -> pd.DataFrame:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_when_complete(stopped, out, "the test sweep", "fits")
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv"], "no record of a stopped run"
    assert (
        f"the test sweep stopped before every one of its fits completed; {out} was not changed"
        in (capsys.readouterr().err)
    )
    write_when_complete(lambda: pd.DataFrame({"a": [1, 2]}), out, "the test sweep", "fits")
    assert out.read_text() == "a\n1\n2\n"
    assert f"wrote {out}: 2 fits in" in capsys.readouterr().out
    record = read_provenance(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.csv", "sweep.provenance.json"]
    assert record["file"] == "sweep.csv"
    assert record["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert record["versions"] == package_versions()
    assert record["environment"] == floating_point_environment()
    assert record["command"].startswith("python ")
