"""The jobs' view of a snapshot: maintenance marks applied, unreachable hosts said out loud."""

from __future__ import annotations

from planner.codec import cluster_to_json
from planner.model import HostState
from tests.builders import make_cluster, make_host, make_vm
from virt_rebalance.jobs import maintenance, steps


def test_current_applies_marks_and_warns_about_unreachable_hosts(config, capsys) -> None:
    cluster = make_cluster(
        [
            make_host("h1"),
            make_host("h2", state=HostState.UNREACHABLE, error="connection refused"),
            make_host("h3"),
        ],
        [make_vm("a", "h1")],
    )
    maintenance.mark(config.state_dir, ["h3"], "evacuate")
    current = steps.current(config, cluster)
    assert [h.state for h in current.hosts] == [
        HostState.ACTIVE,
        HostState.UNREACHABLE,
        HostState.MAINTENANCE,
    ]
    assert "h2 is unreachable and left out: connection refused" in capsys.readouterr().err


def test_load_snapshot_round_trips(tmp_path) -> None:
    cluster = make_cluster([make_host("h1")], [make_vm("a", "h1")])
    path = tmp_path / "snap.json"
    path.write_text(cluster_to_json(cluster))
    assert steps.load_snapshot(path) == cluster
