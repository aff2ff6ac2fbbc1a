"""The optimize stage: where every guest should run (the target placement), and why some stay.

optimizer.py     the entry point: stays up front, then CP-SAT or neighbourhood search, re-checked
stays.py         guests that will not move, known before any solving, with the blocking rule
candidates.py    each guest's allowed hosts (domains) and compatibility classes
peak_bound.py    the peak bound: the best peak any placement could reach (water-filling relaxation)
encoding.py      the CP-SAT encoding (the only module that imports ortools)
solve.py         one CP-SAT solve over a (sub)cluster, its objective and hint
repair.py        large clusters: large-neighbourhood search, a few hosts at a time
waterfill.py     water-filling: single moves from the hosts with most excess; exchange.py its swaps
greedy.py        the greedy baseline and hint; churn.py the heuristics' anti-churn
load_state.py    mutable per-host loads with heaps, for the heuristics
"""
