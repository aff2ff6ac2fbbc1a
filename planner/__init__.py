"""The pure core of virt-rebalance. No I/O, no libvirt. The tree reads like the pipeline:

model.py      the cluster snapshot (Cluster, Host, Vm) in integer units
rules/        hard rules, each with check() and encode()
optimize/     the target placement: CP-SAT, heuristics and neighbourhood search (optimize.optimizer)
schedule/     the target turned into ordered, budgeted live migrations
plan.py       the Plan value (pipeline.py runs the stages)
"""
