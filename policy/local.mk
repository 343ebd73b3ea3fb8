# policy/: who may do what (policy.db).  Depends only on audit.
SR_POLICY_LIBS =
