"""Every file the package writes is replaced whole or not at all, with its permissions kept."""

import pytest

from radon_utils._atomic import replace_file


def test_a_new_file_is_readable_by_all_and_an_old_one_keeps_its_permissions(tmp_path):
    new = tmp_path / "new.json"
    replace_file(new, lambda stream: stream.write("{}\n"))
    assert new.read_text() == "{}\n" and new.stat().st_mode & 0o777 == 0o644
    old = tmp_path / "old.ipynb"
    old.write_text("old")
    old.chmod(0o664)
    replace_file(old, lambda stream: stream.write("ünïcode\n"))
    assert old.read_text(encoding="utf-8") == "ünïcode\n" and old.stat().st_mode & 0o777 == 0o664


def test_a_write_stopped_by_ctrl_c_leaves_the_old_file_and_no_temporary_one(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("a\n1\n")

    def half_then_ctrl_c(stream):
        stream.write("a\n")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replace_file(old, half_then_ctrl_c)
    assert old.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["old.csv"]
