"""executor: turn a Plan into live migrations on real hosts. The entry point is `executor.apply.apply_plan`.

    apply.py      apply_plan(plan, settings, ...): lock, age check, journal, connect, reconcile, run, report
    options.py    execute settings -> libvirt flags and typed parameters (MigrateCall)
    preflight.py  the plan's age; before each move: guest on its source and running, room on the destination
    runner.py     the streaming queue: dependencies, budgets, deadline, failure policy, worker threads
    watch.py      one migration's jobStats -> progress; abort on a stall or the time limit; post-copy switch
    verify.py     after a move: running and persistent on the destination, gone from the source
    journal.py    SQLite journal of every migration's state, and the run lock
    reconcile.py  journal vs live hosts before (re)running: what is done, what to run again
    locate.py     where a guest is, looked up by UUID through the seam
    report.py     ProgressEvent, MigrationOutcome, ApplyReport

Only collectors/connect.py imports libvirt: executor/ uses the seam (collectors.seam: protocols and
VirtError) and its constants (collectors.constants). We never undefine or destroy a guest ourselves: libvirt's
UNDEFINE_SOURCE after a successful migration is the only removal, so a guest runs exactly once, somewhere known.
"""
