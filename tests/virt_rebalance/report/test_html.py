"""The HTML report: one self-contained file, rendered in real headless Chromium with no script error."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from planner.plan import Plan
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


def crowded_plan() -> Plan:
    """Bars near the top of the scale, long guest names, moves of 1.5 s to a minute, an end at 1m 5.3s."""
    plan = sample_plan()
    full = tuple(
        replace(
            b,
            cpu_millicores=b.cpu_capacity_millicores * 99 // 100,
            memory_mib=b.memory_capacity_mib * 97 // 100,
        )
        for b in plan.before
    )
    timings = [(0.0, 1.5), (0.0, 4.0), (2.0, 9.0), (5.0, 60.3), (12.0, 30.0)]
    moves = tuple(
        replace(
            plan.migrations[n % 2],
            id=f"m{n}",
            vm_name=f"a-guest-{n}-with-a-long-name",
            start_s=start,
            estimated_s=est,
            depends_on=(),
        )
        for n, (start, est) in enumerate(timings, 1)
    )
    return replace(plan, before=full, migrations=moves, makespan_s=65.3)


# Appended to the page: lists every chart text cut at its chart's edge, wider than the bar it sits on, or
# on top of another text, and whether the page scrolls sideways; "ok" when there is none.
LAYOUT_CHECK = """<script>
(function () {
  var problems = [], page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) { problems.push("page scrolls sideways " + page.scrollWidth); }
  document.querySelectorAll("svg").forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var texts = Array.prototype.slice.call(svg.querySelectorAll("text"));
    texts.forEach(function (t, i) {
      var r = t.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) { problems.push("cut: " + t.textContent); }
      if (t.classList.contains("on-bar")) {
        var bar = t.previousElementSibling.getBoundingClientRect();
        if (r.left < bar.left || r.right > bar.right) { problems.push("past its bar: " + t.textContent); }
      }
      texts.slice(i + 1).forEach(function (u) {
        var s = u.getBoundingClientRect();
        var dx = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        var dy = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (dx > 1 && dy > 3) { problems.push("overlap: " + t.textContent + " / " + u.textContent); }
      });
    });
  });
  document.body.setAttribute("data-layout", problems.join(" | ") || "ok");
})();
</script>"""


@pytest.mark.parametrize(
    ("plan", "width", "labelled"),
    [
        (crowded_plan(), 1280, "#4 a-guest-4-with-a-long-name -&gt; h2"),
        (crowded_plan(), 800, "#4 a-guest-4-with-a-long-name &lt;- h1"),
        (sample_plan(), 800, "#2 db-1 -&gt; h3"),
    ],
    ids=["crowded-1280", "crowded-800", "plan-800"],
)
def test_chart_text_is_readable_at_the_window_width(tmp_path, plan, width, labelled) -> None:
    page = tmp_path / "plan.html"
    page.write_text(html.render(plan).replace("</body>", LAYOUT_CHECK + "</body>"))
    dom = chromium(page, f"--window-size={width},2000", "--dump-dom").stdout
    layout = re.search(r'data-layout="([^"]*)"', dom)
    assert layout, dom[-2000:]
    assert layout.group(1) == "ok"
    assert labelled in re.findall(r'<text[^>]*class="on-bar"[^>]*>([^<]*)<', dom)  # a long bar says it all


def test_warnings_first_ceiling_in_the_legend_baseline_folded_as_code() -> None:
    from dataclasses import replace

    from tests.virt_rebalance.sample import sample_plan

    xml = "<cpu mode='custom' match='exact'><model fallback='forbid'>Skylake-Server-IBRS</model></cpu>"
    plan = sample_plan()
    plan = replace(plan, snapshot=replace(plan.snapshot, baseline_cpu=xml))
    page = html.render(plan)
    warnings = page.index('id="warnings"')
    assert warnings < page.index('class="sub"') and page.index("g-kvm stays on h1", warnings)
    assert "CPU: share of the ceiling (85% of the CPUs minus the reserve)" in page
    assert "<details><summary>Cluster baseline CPU" in page
    assert "<pre><code>&lt;cpu mode=&#x27;custom&#x27;" in page
