"""Do estimates learn? Evacuate the lab's hosts in turn and compare each plan's estimates with the real run.

    python -m benchmarks.estimates [--rounds 4] [--guests 6] [--name estimates]

Brings up a 3-host lab with idle guests (128-512 MiB), then each round plans the evacuation of the next
host (`virt-rebalance plan --evacuate`) and applies it (`apply --log-json`); the journal of every round
calibrates the next plan. Prints, per round: the migrations, each one's estimate against its real duration
(mean and worst error), and the whole apply's estimated makespan against its real elapsed time. Target
(issue 11): after two applies, per-migration and whole-plan errors within 25 %. The lab is taken down.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from virt_rebalance.lab import Lab

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "virt_rebalance", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False)


def one_round(lab: Lab, host: str, work: Path, n: int) -> dict[str, Any]:
    plan = work / f"plan-{n}.json"
    planned = cli(
        "plan", "--evacuate", host, "--format", "json", "-o", str(plan), "--config", str(lab.config_path)
    )
    if planned.returncode != 0:
        raise SystemExit(f"plan failed: {planned.stdout}{planned.stderr}")
    notes = [x for x in json.loads(plan.read_text())["notes"] if "set-up" in x or "own work" in x]
    applied = cli("--log-json", "apply", str(plan), "--config", str(lab.config_path))
    lines = [x for x in applied.stdout.splitlines() if x.startswith("{") and '"outcomes"' in x]
    if not lines:
        raise SystemExit(f"apply gave no report: {applied.stdout}{applied.stderr}")
    report = json.loads(lines[-1])
    moves = [o for o in report["outcomes"] if o["status"] == "done"]
    errors = [abs(o["estimated_s"] - o["actual_s"]) / o["actual_s"] for o in moves]
    return {
        "round": n,
        "evacuated": host,
        "status": report["status"],
        "moves": len(moves),
        "each": [
            (o["vm_name"], o["estimated_s"], o["actual_s"], o["estimated_mib"], o["actual_mib"])
            for o in moves
        ],
        "mean_error_pct": 100 * sum(errors) / len(errors) if errors else None,
        "worst_error_pct": 100 * max(errors) if errors else None,
        "estimated_s": report["estimated_makespan_s"],
        "elapsed_s": report["elapsed_s"],
        "calibration": notes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--guests", type=int, default=6)
    parser.add_argument("--name", default="estimates")
    args = parser.parse_args()
    lab = Lab(args.name)
    lab.down()
    lab.up(hosts=3, guests=args.guests)
    work = lab.dir / "estimates"
    work.mkdir(exist_ok=True)
    try:
        for n in range(1, args.rounds + 1):
            r = one_round(lab, f"h{(n - 1) % 3 + 1}", work, n)
            whole = 100 * abs(r["estimated_s"] - r["elapsed_s"]) / r["elapsed_s"]
            print(
                f"round {n} (evacuate {r['evacuated']}, {r['status']}): {r['moves']} moves; per migration "
                f"error mean {r['mean_error_pct'] or 0:.0f}% worst {r['worst_error_pct'] or 0:.0f}%; whole plan "
                f"{r['estimated_s']:.1f}s estimated vs {r['elapsed_s']:.1f}s real ({whole:.0f}%)"
            )
            for name, est, real, est_mib, real_mib in r["each"]:
                print(
                    f"    {name}: {est:.1f}s estimated, {real:.1f}s real; {est_mib} MiB estimated, {real_mib:.0f} real"
                )
            for line in r["calibration"]:
                print(f"    calibration: {line}")
            sys.stdout.flush()
    finally:
        lab.down()


if __name__ == "__main__":
    main()
