"""CLI subcommands, one module each; registered explicitly in virt_rebalance.cli."""
