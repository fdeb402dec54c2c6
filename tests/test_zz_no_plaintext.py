"""No identity in clear: the SQLite files and the logs of the whole run hold none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import ISSUED


@pytest.mark.last_in_run
def test_no_identity_in_sqlite_files_or_logs(tmp_path_factory: pytest.TempPathFactory,
                                             all_logs: Path) -> None:
    import logging

    for handler in logging.getLogger().handlers:
        handler.flush()
    base = tmp_path_factory.getbasetemp()
    files = [p for pattern in ("**/*.db", "**/*.db-wal", "**/*.csv.log") for p in
             base.glob(pattern)] + [all_logs]
    assert ISSUED, "no identity was issued: the check would prove nothing"
    assert any(p.suffix == ".db" for p in files), "no SQLite file to inspect"
    needles = {value: [value.encode(), value.upper().encode(), value.lower().encode()]
               for value in ISSUED}
    leaks = []
    for path in files:
        content = path.read_bytes()
        for value, forms in needles.items():
            if any(form in content for form in forms):
                leaks.append((path.name, len(value)))  # never print the value itself
    assert leaks == []
