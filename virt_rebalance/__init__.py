"""virt_rebalance."""
