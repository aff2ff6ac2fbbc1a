"""Reading the rules a guest carries in <metadata>: the schema as a table, and hostile XML never raises."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.domain_xml import parse_domain
from collectors.guest_metadata import NAMESPACE, parse_rules
from planner.model import GuestRules

DOMAIN = """<domain type='qemu'><name>web-1</name><uuid>u-1</uuid><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><metadata>{metadata}</metadata></domain>"""


def rules_of(inner: str) -> GuestRules | None:
    xml = DOMAIN.format(metadata=f'<vr:rules xmlns:vr="{NAMESPACE}">{inner}</vr:rules>')
    return parse_domain(xml).rules


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        ("<vr:ignore/>", GuestRules(ignore=True)),
        ("<vr:pin>db-hosts</vr:pin><vr:pin> rack-b </vr:pin>", GuestRules(pin=("db-hosts", "rack-b"))),
        ("<vr:affinity>app</vr:affinity><vr:affinity>app</vr:affinity>", GuestRules(affinity=("app",))),
        ("<vr:anti-affinity>web</vr:anti-affinity>", GuestRules(anti_affinity=("web",))),
        ("", GuestRules()),
    ],
    ids=["ignore", "pin-two-groups", "affinity-once", "anti-affinity", "empty"],
)
def test_the_schema(inner: str, expected: GuestRules) -> None:
    assert rules_of(inner) == expected


@pytest.mark.parametrize(
    ("inner", "words"),
    [
        ("<vr:move-me/>", "unknown element <move-me>"),
        ("<vr:pin></vr:pin>", "<pin>: an empty name"),
        ("<vr:pin>" + "x" * 101 + "</vr:pin>", "longer than 100"),
        ("<vr:affinity>a&#9;b</vr:affinity>", "control characters"),
        ("<vr:ignore>yes</vr:ignore>", "<ignore> takes no text"),
        ("<vr:pin><vr:pin>a</vr:pin></vr:pin>", "<pin> holds elements"),
        ("<vr:affinity>g</vr:affinity><vr:anti-affinity>g</vr:anti-affinity>", "both affinity and anti"),
        ("<other xmlns='urn:x'/>", "unknown element"),
        ("loose text", "text directly inside <rules>"),
    ],
    ids=["unknown", "empty", "long", "control", "ignore-text", "nested", "both", "foreign", "text"],
)
def test_what_cannot_be_read_is_a_problem(inner: str, words: str) -> None:
    rules = rules_of(inner)
    assert rules is not None
    assert any(words in p for p in rules.problems), rules.problems


def test_no_metadata_or_another_namespace_is_none() -> None:
    assert parse_domain(DOMAIN.format(metadata="")).rules is None
    assert (
        parse_domain(DOMAIN.format(metadata="<x:rules xmlns:x='urn:other'><x:ignore/></x:rules>")).rules
        is None
    )


# Text XML can carry (no surrogates, no NUL or other C0 controls but tab and newlines).
XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, range(9))) + "\x0b\x0c"
                  + "".join(map(chr, range(14, 32))) + "\ufffe\uffff"),
    max_size=120,
)  # fmt: skip
TAGS = st.sampled_from(["ignore", "pin", "affinity", "anti-affinity", "bogus", "PIN", "rules"])


@given(st.lists(st.tuples(TAGS, XML_TEXT, st.booleans()), max_size=8), XML_TEXT)
def test_hostile_metadata_never_raises(children: list[tuple[str, str, bool]], loose: str) -> None:
    """Any well-formed <rules> (libvirt accepts only well-formed metadata) gives a GuestRules, and
    every name it keeps is one a message can show."""
    metadata = ET.Element("metadata")
    rules = ET.SubElement(metadata, f"{{{NAMESPACE}}}rules")
    rules.text = loose
    for tag, text, nested in children:
        child = ET.SubElement(rules, f"{{{NAMESPACE}}}{tag}")
        child.text = text
        if nested:
            ET.SubElement(child, f"{{{NAMESPACE}}}pin").text = text
    domain = ET.fromstring(DOMAIN.format(metadata=ET.tostring(rules, encoding="unicode")))
    got = parse_rules(domain)
    assert got is not None
    for name in (*got.pin, *got.affinity, *got.anti_affinity):
        assert name and len(name) <= 100 and name.isprintable()


def test_carried_rules_travel_in_the_snapshot() -> None:
    from dataclasses import replace

    from planner.codec import cluster_from_json, cluster_to_json
    from tests.virt_rebalance.sample import sample_cluster

    cluster = sample_cluster()
    carried = GuestRules(ignore=True, pin=("fast",), affinity=("a",), anti_affinity=("b",), problems=("p",))
    cluster = replace(cluster, vms=(replace(cluster.vms[0], rules=carried), *cluster.vms[1:]))
    again = cluster_from_json(cluster_to_json(cluster))
    assert again.vms[0].rules == carried and again.vms[1].rules is None


def test_the_collector_carries_each_guests_rules(tmp_path) -> None:
    from collectors.collect import collect_cluster
    from tests.collectors.test_collect import config_for
    from tests.fakes.world import FakeWorld

    world = FakeWorld()
    world.add_host("h1")
    carried = f'<vr:rules xmlns:vr="{NAMESPACE}"><vr:pin>fast</vr:pin><vr:bogus/></vr:rules>'
    world.add_domain("h1", "web-1", metadata_xml=carried)
    world.add_domain("h1", "plain")
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    assert cluster.vm_by_name["web-1"].rules == GuestRules(
        pin=("fast",), problems=("unknown element <bogus>",)
    )
    assert cluster.vm_by_name["plain"].rules is None
