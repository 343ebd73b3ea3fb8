# sandbox/: the per-project sandbox.  Depends only on audit.
