"""The HTML report: one self-contained file, rendered in real headless Chromium with no script error."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.virt_rebalance.sample import empty_plan, plan_for, sample_cluster, sample_plan
from virt_rebalance.report import html

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]  # fmt: skip


def chromium(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium package is needed (the Makefile's APT_PACKAGES installs it)"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
            capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip


def test_nothing_is_fetched_from_anywhere() -> None:
    page = html.render(sample_plan())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "<link" not in page


def test_names_in_the_plan_are_escaped() -> None:
    cluster = sample_cluster()
    evil = {**cluster.vm_by_name}
    vm = evil["web-1"]
    from dataclasses import replace

    cluster = replace(
        cluster, vms=tuple(replace(v, name="</script><b>x") if v is vm else v for v in cluster.vms)
    )
    page = html.render(plan_for(cluster, [("</script><b>x", "h2")]))
    assert "</script><b>x" not in page
    assert "&lt;/script&gt;&lt;b&gt;x" in page


@pytest.mark.parametrize("plan", [sample_plan(), empty_plan()], ids=["plan", "empty"])
def test_renders_in_headless_chromium_without_errors(tmp_path, plan) -> None:
    page = tmp_path / "plan.html"
    page.write_text(html.render(plan))
    result = chromium(page, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert 'data-rendered="ok"' in dom, "the page's script did not finish"
    assert 'id="js-error"' not in dom
    assert not re.search(r"CONSOLE.*(Uncaught|Error)", result.stderr)
    hosts = len(plan.before)
    assert len(re.findall(r'<rect[^>]*class="bar"', dom)) == 4 * hosts  # cpu/memory x before/after
    assert len(re.findall(r'<rect[^>]*class="move"', dom)) == 2 * len(
        plan.migrations
    )  # source and destination
    for m in plan.migrations:
        assert m.vm_name in dom


def test_a_script_error_shows_on_the_page(tmp_path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(html.render(sample_plan()).replace("JSON.parse(document", "JSON.parse(nothing"))
    dom = chromium(page, "--dump-dom").stdout
    assert 'id="js-error"' in dom and 'data-rendered="ok"' not in dom
    assert "script error" in dom
