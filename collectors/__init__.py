"""collectors: libvirt hosts -> one Cluster snapshot (`collect_cluster` in collectors.collect).

connect          open_connection (the only libvirt import), its errors as the seam's VirtError
uri              URIs and messages without credentials
parallel         one thread per host, each with its own timeout
host_reader      nodeGetInfo, memory, capabilities and domain capabilities -> size, CPU, domain types
guests           two bulk getAllDomainStats readings an interval apart, definitions, jobs, dirty rates
domain_xml       domain XML -> size, guest CPU definition, what forbids a live migration
usage            CPU rate, memory in use, dirty rate from the stats dicts
compatibility    guest CPU signatures x hosts via compareHypervisorCPU; the baseline CPU
history          SQLite usage samples; mean and p95 over a window
seam, constants  the narrow libvirt protocol, its error type and the libvirt constants callers need
                 (its in-memory fake lives with the tests: tests/fakes/)
"""
