"""The three jobs' building blocks: the nightly run, its lock, exit codes, metrics and maintenance marks."""
