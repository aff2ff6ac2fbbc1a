"""Maintenance marks: kept in the state dir, applied to the collected cluster, lifted by `end`."""

from __future__ import annotations

import pytest

from planner.errors import InputError
from planner.model import HostState
from tests.builders import make_cluster, make_host, make_vm
from virt_rebalance.jobs import maintenance


def test_mark_then_end(tmp_path) -> None:
    maintenance.mark(tmp_path, ["h1", "h2"], "evacuate")
    assert set(maintenance.load(tmp_path)) == {"h1", "h2"}
    assert maintenance.end(tmp_path, "h1") is True
    assert maintenance.end(tmp_path, "h1") is False
    assert set(maintenance.load(tmp_path)) == {"h2"}


def test_marking_again_keeps_the_first_date(tmp_path) -> None:
    maintenance.mark(tmp_path, ["h1"], "evacuate")
    first = maintenance.load(tmp_path)["h1"].since
    maintenance.mark(tmp_path, ["h1"], "again")
    assert maintenance.load(tmp_path)["h1"].since == first


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (HostState.ACTIVE, HostState.MAINTENANCE),
        (HostState.UNREACHABLE, HostState.UNREACHABLE),
        (HostState.EXCLUDED, HostState.EXCLUDED),
    ],
    ids=["active-becomes-maintenance", "unreachable-stays", "excluded-stays"],
)
def test_apply_to_cluster(tmp_path, state, expected) -> None:
    cluster = make_cluster([make_host("h1", state=state), make_host("h2")], [make_vm("a", "h1")])
    maintenance.mark(tmp_path, ["h1"], "evacuate")
    marked = maintenance.apply_to(cluster, maintenance.load(tmp_path))
    assert marked.host_by_name["h1"].state is expected
    assert marked.host_by_name["h2"].state is HostState.ACTIVE


def test_no_marks_leaves_the_cluster_alone(tmp_path) -> None:
    cluster = make_cluster([make_host("h1")], [])
    assert maintenance.apply_to(cluster, maintenance.load(tmp_path)) is cluster


def test_a_broken_file_names_itself(tmp_path) -> None:
    maintenance.path_in(tmp_path).write_text("[1, 2]")
    with pytest.raises(InputError, match=r"maintenance\.json"):
        maintenance.load(tmp_path)
