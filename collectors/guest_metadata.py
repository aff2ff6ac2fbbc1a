"""The rules a guest carries in its libvirt <metadata>, in our own namespace, so a rule travels with it.

    <metadata>
      <vr:rules xmlns:vr="https://virt-rebalance.example/rules/1">
        <vr:ignore/>                              never move this guest
        <vr:pin>db-hosts</vr:pin>                 run only on hosts of this host group (several: any of them)
        <vr:affinity>app-cache</vr:affinity>      keep on one host with the guests naming the same group
        <vr:anti-affinity>web</vr:anti-affinity>  keep on other hosts than the guests naming the same group
      </vr:rules>
    </metadata>

Set it with `virsh metadata GUEST https://virt-rebalance.example/rules/1 --key vr --set '<rules>...'`
(add --config --live for a running guest). Pure parsing, no libvirt calls: whatever the XML holds, the
result is a GuestRules; what cannot be read is listed in its `problems` (never an exception).
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from planner.model import GuestRules

NAMESPACE = "https://virt-rebalance.example/rules/1"
MAX_NAME = 100
_LISTS = {"pin": "pin", "affinity": "affinity", "anti-affinity": "anti_affinity"}


def parse_rules(domain: ET.Element) -> GuestRules | None:
    """The guest's rules from `<metadata>` of its domain XML; None when it carries none of ours."""
    found = domain.findall(f"metadata/{{{NAMESPACE}}}rules")
    if not found:
        return None
    if len(found) > 1:
        return GuestRules(problems=(f"{len(found)} <rules> elements; one is allowed",))
    return _read(found[0])


def _read(rules: ET.Element) -> GuestRules:
    lists: dict[str, list[str]] = {key: [] for key in _LISTS.values()}
    ignore = False
    problems: list[str] = []
    if (rules.text or "").strip():
        problems.append("text directly inside <rules>")
    for child in rules:
        tag = _local(child.tag)
        if tag is None or (tag != "ignore" and tag not in _LISTS):
            problems.append(f"unknown element <{_shown(tag or child.tag)}>")
            continue
        if len(child):
            problems.append(f"<{tag}> holds elements; it takes a name only")
            continue
        text = (child.text or "").strip()
        if tag == "ignore":
            if text:
                problems.append("<ignore> takes no text")
            ignore = True
        elif problem := _name_problem(text):
            problems.append(f"<{tag}>: {problem}")
        elif text not in lists[_LISTS[tag]]:
            lists[_LISTS[tag]].append(text)
    both = set(lists["affinity"]) & set(lists["anti_affinity"])
    problems += [f"group {_shown(g)!r} is both affinity and anti-affinity" for g in sorted(both)]
    return GuestRules(
        ignore=ignore,
        pin=tuple(lists["pin"]),
        affinity=tuple(lists["affinity"]),
        anti_affinity=tuple(lists["anti_affinity"]),
        problems=tuple(problems),
    )


def _local(tag: object) -> str | None:
    """The tag's name when it is in our namespace, else None (comments and other namespaces)."""
    prefix = f"{{{NAMESPACE}}}"
    return tag[len(prefix) :] if isinstance(tag, str) and tag.startswith(prefix) else None


def _name_problem(text: str) -> str | None:
    if not text:
        return "an empty name"
    if len(text) > MAX_NAME:
        return f"a name longer than {MAX_NAME} characters"
    if not text.isprintable():
        return f"a name with control characters ({_shown(text)!r})"
    return None


def _shown(text: object) -> str:
    """At most 40 printable characters of something read from a guest, for a message."""
    value = str(text) if isinstance(text, str) else "?"
    value = "".join(ch if ch.isprintable() else "?" for ch in value)
    return value if len(value) <= 40 else value[:37] + "..."
