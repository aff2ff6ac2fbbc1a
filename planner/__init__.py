"""The pure core of virt-rebalance: model, rules, optimizer, schedule, plan. No I/O, no libvirt."""
