from virt_rebalance.cli import main

main(prog_name="virt-rebalance")
