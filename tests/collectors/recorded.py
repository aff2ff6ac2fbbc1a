"""Recorded libvirt XML of real CPU generations (tests/collectors/data, see its README)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def capabilities(cpu_file: str, domain_types: tuple[str, ...] = ("qemu", "kvm")) -> str:
    """A capabilities document around a recorded host CPU, as libvirt's virsh capabilities prints it."""
    cpu = (DATA / cpu_file).read_text()
    domains = "".join(f"<domain type='{t}'/>" for t in domain_types)
    return (
        f"<capabilities><host><uuid>0000</uuid>{cpu}</host>"
        "<guest><os_type>hvm</os_type><arch name='i686'><domain type='qemu'/></arch></guest>"
        f"<guest><os_type>hvm</os_type><arch name='x86_64'><wordsize>64</wordsize>{domains}</arch></guest>"
        "</capabilities>"
    )
