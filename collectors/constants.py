"""libvirt's numeric constants that collectors/ uses, so only `collectors.connect` imports libvirt.

These are libvirt's stable ABI values (include/libvirt/libvirt-*.h); tests/collectors/test_constants.py
checks each one against libvirt-python.
"""

from __future__ import annotations

# virDomainState
VIR_DOMAIN_NOSTATE = 0
VIR_DOMAIN_RUNNING = 1
VIR_DOMAIN_BLOCKED = 2
VIR_DOMAIN_PAUSED = 3
VIR_DOMAIN_SHUTDOWN = 4
VIR_DOMAIN_SHUTOFF = 5
VIR_DOMAIN_CRASHED = 6
VIR_DOMAIN_PMSUSPENDED = 7

# virConnectListAllDomainsFlags
VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1
VIR_CONNECT_LIST_DOMAINS_PERSISTENT = 4
VIR_CONNECT_LIST_DOMAINS_TRANSIENT = 8

# virDomainStatsTypes
VIR_DOMAIN_STATS_STATE = 1
VIR_DOMAIN_STATS_CPU_TOTAL = 2
VIR_DOMAIN_STATS_BALLOON = 4
VIR_DOMAIN_STATS_VCPU = 8
VIR_DOMAIN_STATS_DIRTYRATE = 512

# virDomainDirtyRateStatus
VIR_DOMAIN_DIRTYRATE_UNSTARTED = 0
VIR_DOMAIN_DIRTYRATE_MEASURING = 1
VIR_DOMAIN_DIRTYRATE_MEASURED = 2

# virDomainJobType
VIR_DOMAIN_JOB_NONE = 0
VIR_DOMAIN_JOB_BOUNDED = 1
VIR_DOMAIN_JOB_UNBOUNDED = 2

# virCPUCompareResult
VIR_CPU_COMPARE_ERROR = -1
VIR_CPU_COMPARE_INCOMPATIBLE = 0
VIR_CPU_COMPARE_IDENTICAL = 1
VIR_CPU_COMPARE_SUPERSET = 2

# virNodeGetMemoryStats cellNum meaning "all cells"
VIR_NODE_MEMORY_STATS_ALL_CELLS = -1
