"""`make install` into a temporary prefix, the wheel it installs, and the systemd units it writes.

The project is built once into a wheel (which must build without setuptools warnings and hold no
benchmarks or test fakes); `make install` then installs it into a virtualenv that borrows the test run's
dependencies (a .pth file), so the test takes seconds and needs no network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from virt_rebalance.config import load_config

ROOT = Path(__file__).resolve().parents[2]
UNITS = (
    "virt-rebalance.service",
    "virt-rebalance.timer",
    "virt-rebalance-collect.service",
    "virt-rebalance-collect.timer",
)

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and os.environ.get("CI") != "true",
    reason="systemd-analyze is missing (`make units-verify` installs it)",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel, built from a copy of the files git knows (so the checkout stays clean), and the log."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return next(out.glob("virt_rebalance-*.whl")), build.stdout + build.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    root = tmp_path_factory.mktemp("root")
    prefix = root / "opt" / "virt-rebalance"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    site = next((prefix / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _make_install(root, wheel[0])
    return root


def _make_install(root: Path, package: Path) -> subprocess.CompletedProcess[str]:
    prefix = root / "opt" / "virt-rebalance"
    return subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT),
            "install",
            f"PREFIX={prefix}",
            f"BINDIR={root / 'bin'}",
            f"CONFDIR={root / 'etc'}",
            f"UNITDIR={root / 'units'}",
            f"PACKAGE={package}",
            f"PIP={sys.executable} -m pip --python {prefix / 'bin' / 'python'}",
            "PIP_INSTALL_FLAGS=--no-deps --no-index",
            "HOSTS=n1,n2",
            "URI=qemu+ssh://root@{host}/system",
        ],
        capture_output=True,
        text=True,
        check=True,
    )


def test_the_wheel_builds_cleanly_and_holds_only_what_an_install_runs(wheel) -> None:
    path, log = wheel
    assert "Deprecat" not in log, log
    names = zipfile.ZipFile(path).namelist()
    assert not [n for n in names if n.startswith(("benchmarks/", "tests/"))]
    for shipped in (
        "virt_rebalance/examples/cluster.toml",
        "virt_rebalance/report/template.html",
        *(f"virt_rebalance/examples/systemd/{u}" for u in UNITS),
    ):
        assert shipped in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(path).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata


def test_the_wheel_holds_no_test_fakes(wheel) -> None:
    assert not [n for n in zipfile.ZipFile(wheel[0]).namelist() if re.search(r"/fake\w*\.py$", n)]


def test_the_command_is_on_the_path_and_runs(installed) -> None:
    link = installed / "bin" / "virt-rebalance"
    assert (
        link.is_symlink()
        and link.resolve() == (installed / "opt/virt-rebalance/bin/virt-rebalance").resolve()
    )
    version = subprocess.run([str(link), "--version"], capture_output=True, text=True, check=True)
    assert "0.1.0" in version.stdout


def test_a_config_is_written_for_the_hosts(installed) -> None:
    config = load_config(installed / "etc" / "cluster.toml")
    assert [h.uri for h in config.hosts] == ["qemu+ssh://root@n1/system", "qemu+ssh://root@n2/system"]


def test_units_start_the_installed_command_and_pass_systemd_analyze(installed) -> None:
    units = installed / "units"
    assert sorted(p.name for p in units.iterdir()) == sorted(UNITS)
    for service in ("virt-rebalance.service", "virt-rebalance-collect.service"):
        text = (units / service).read_text()
        command = re.search(r"^ExecStart=(\S+) .*--config (\S+)$", text, re.M)
        assert command and Path(command[1]).exists(), text
        assert command[2] == str(installed / "etc" / "cluster.toml")
    subprocess.run(
        ["systemd-analyze", "verify", *(str(units / u) for u in UNITS)], check=True, capture_output=True
    )


@pytest.mark.parametrize("service", ["virt-rebalance.service", "virt-rebalance-collect.service"])
def test_units_are_hardened(installed, service) -> None:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(installed / "units" / service)],
        capture_output=True,
        text=True,
        check=True,
    )
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)[1])
    assert score <= 3.0, result.stdout


def test_a_second_install_keeps_the_operators_config(installed, wheel) -> None:
    config = installed / "etc" / "cluster.toml"
    config.write_text(config.read_text() + "# edited\n")
    _make_install(installed, wheel[0])
    assert config.read_text().endswith("# edited\n")
