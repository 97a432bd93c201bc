"""Pipeline outputs are written whole (atomically) and readable like any other file."""

from __future__ import annotations

import stat
from pathlib import Path

from mllifecycle import (
    io,
)
from mllifecycle.io import (
    read_json,
    write_json,
    write_text,
)


def test_reports_are_readable_by_the_group_and_others_as_the_umask_allows(tmp_path: Path) -> None:
    write_json({"value": 1}, tmp_path / "reports/verdict.json")
    write_text("# card\n", tmp_path / "reports/model_card.md")
    # What `open` would give under this process's umask (0o644 under the usual 0o022);
    # mkstemp alone leaves 0o600 whatever the umask.
    expected = 0o644 & ~io._UMASK
    for name in ("verdict.json", "model_card.md"):
        mode = stat.S_IMODE((tmp_path / "reports" / name).stat().st_mode)
        assert mode == expected, f"{name}: {oct(mode)}"
    if io._UMASK & 0o044 == 0:
        assert expected & 0o044 == 0o044
    assert read_json(tmp_path / "reports/verdict.json") == {"value": 1}
    assert not list((tmp_path / "reports").glob(".*.tmp")), "no temporary file is left behind"
