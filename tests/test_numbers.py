"""The numbers a chapter's prose shows: formatted once, kept on disk, refused when they cannot be
shown."""

import json
import math

import numpy as np
import pytest

from radon_utils.numbers import NUMBERS_DIR_ENV_VAR, ChapterNumbers, numbers_dir, read_numbers


@pytest.fixture
def numbers(tmp_path):
    return ChapterNumbers("03_where_nuts_fails", folder=tmp_path)


def test_a_number_is_shown_in_the_format_it_was_recorded_with(numbers):
    numbers.record(
        sigma_b_mean=(0.25917, ".3f"), share=(0.131, ".0%"), n_draws=4000, county="Itasca"
    )
    assert (numbers.sigma_b_mean, numbers.share, numbers.n_draws, numbers.county) == (
        "0.259",
        "13%",
        "4000",
        "Itasca",
    )


def test_numpy_numbers_are_recorded_as_plain_json(numbers, tmp_path):
    numbers.record(n=np.int64(85), x=(np.float64(0.5), ".2f"))
    values = json.loads((tmp_path / "03_where_nuts_fails.json").read_text())
    assert values == {"n": 85, "x": 0.5}
    assert type(values["n"]) is int


def test_every_record_writes_the_values_and_the_shown_text(numbers, tmp_path):
    numbers.record(a=(1 / 3, ".2f"))
    numbers.record(b=7)
    assert read_numbers("03_where_nuts_fails", folder=tmp_path) == {"a": 1 / 3, "b": 7}
    assert read_numbers("03_where_nuts_fails", shown=True, folder=tmp_path) == {
        "a": "0.33",
        "b": "7",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "03_where_nuts_fails.json",
        "03_where_nuts_fails.shown.json",
    ]


def test_recording_a_name_again_replaces_it(numbers):
    numbers.record(a=1)
    numbers.record(a=2)
    assert numbers.a == "2"


def test_a_float_without_a_format_is_refused_with_the_fix(numbers):
    with pytest.raises(TypeError, match=r"x=\(value, '\.2f'\)"):
        numbers.record(x=0.25)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_number_that_is_not_finite_is_refused(numbers, value):
    with pytest.raises(ValueError, match="not finite"):
        numbers.record(x=(value, ".2f"))


def test_a_bad_format_names_the_number(numbers):
    with pytest.raises(ValueError, match="x: 'q' is not a format spec"):
        numbers.record(x=(0.5, "q"))


def test_other_types_are_refused(numbers):
    with pytest.raises(TypeError, match="x must be an int, a float or a str, not list"):
        numbers.record(x=[1, 2])


def test_a_name_not_yet_recorded_says_where_to_record_it(numbers):
    numbers.record(a=1)
    with pytest.raises(
        AttributeError,
        match=r"no number named 'b' .*recorded so far: a\); record it in a cell above",
    ):
        numbers.b  # noqa: B018


def test_a_chapter_is_a_file_stem():
    with pytest.raises(ValueError, match="file stem"):
        ChapterNumbers("chapters/03_where_nuts_fails")


def test_the_folder_is_the_repository_build_folder_or_the_environment_variable(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(NUMBERS_DIR_ENV_VAR, raising=False)
    (tmp_path / "_config.yml").write_text("title: x\n")
    (tmp_path / "radon_utils").mkdir()
    (tmp_path / "chapters").mkdir()
    assert numbers_dir(tmp_path / "chapters") == tmp_path / "_build" / "numbers"
    monkeypatch.setenv(NUMBERS_DIR_ENV_VAR, str(tmp_path / "elsewhere"))
    assert numbers_dir(tmp_path / "chapters") == tmp_path / "elsewhere"


def test_outside_a_repository_nothing_is_written_and_reading_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(NUMBERS_DIR_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    numbers = ChapterNumbers("01_radon_data")
    numbers.record(n=919)
    assert numbers.n == "919" and list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="run the chapter"):
        read_numbers("01_radon_data")


def test_a_failed_write_leaves_the_previous_file(numbers, tmp_path, monkeypatch):
    numbers.record(a=1)
    before = (tmp_path / "03_where_nuts_fails.json").read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", fail)
    with pytest.raises(OSError, match="disk full"):
        numbers.record(a=2)
    assert (tmp_path / "03_where_nuts_fails.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "03_where_nuts_fails.json",
        "03_where_nuts_fails.shown.json",
    ]
