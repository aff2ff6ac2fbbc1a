"""files: writing and locking files safely as root, shared by executor/ (the journal) and the application.

safe_write     atomic writes with safe modes, directories others may write to, a full disk as an error
lock           the one exclusive flock (the run lock, the journal's apply lock) and LockedError

Below the application so that executor/ needs nothing from virt_rebalance/; it imports only planner.errors.
"""
