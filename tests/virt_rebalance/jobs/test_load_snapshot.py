"""load_snapshot: a snapshot file the jobs plan from, or an error naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.codec import cluster_from_json, cluster_to_json
from planner.errors import InputError, SnapshotError
from tests.builders import make_cluster, make_host, make_vm
from virt_rebalance.jobs.steps import load_snapshot


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        (None, SnapshotError, "cannot read: No such file or directory"),
        (b"", SnapshotError, "not valid JSON"),
        (b'{"schema_version": 1}', SnapshotError, "required"),
    ],
    ids=["missing-file", "empty-file", "no-hosts"],
)
def test_load_snapshot_file(
    tmp_path: Path, content: bytes | None, error: type[InputError], words: str
) -> None:
    path = tmp_path / "snap.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error) as exc:
        load_snapshot(path)
    assert exc.value.source == str(path) and words in exc.value.problem


def test_load_snapshot_reads_a_good_file(tmp_path: Path) -> None:
    cluster = make_cluster([make_host("h1")], [make_vm("a", "h1")], collected_at="2026-11-26T00:00:00Z")
    path = tmp_path / "snap.json"
    path.write_text(cluster_to_json(cluster))
    assert load_snapshot(path) == cluster_from_json(cluster_to_json(cluster))
