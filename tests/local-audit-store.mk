# tests for audit-store: the audit.db store, its queries, verify, and `audit` verbs.
SR_AUDIT_TEST_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JSONC_CFLAGS)

# Builds real audit.db files for the tests through the real store.
check_PROGRAMS += tests/tools/audit-fill
tests_tools_audit_fill_SOURCES = tests/tools/audit-fill.c
tests_tools_audit_fill_CFLAGS = $(SR_AUDIT_TEST_CFLAGS)
tests_tools_audit_fill_LDADD = $(SR_AUDIT_LIBS)

check_PROGRAMS += tests/unit/test_audit_chain tests/unit/test_audit_store
tests_unit_test_audit_chain_SOURCES = tests/unit/test_audit_chain.c tests/unit/tap.h
tests_unit_test_audit_chain_CFLAGS = $(SR_AUDIT_TEST_CFLAGS)
tests_unit_test_audit_chain_LDADD = $(SR_AUDIT_LIBS)
tests_unit_test_audit_store_SOURCES = tests/unit/test_audit_store.c tests/unit/tap.h
tests_unit_test_audit_store_CFLAGS = $(SR_AUDIT_TEST_CFLAGS)
tests_unit_test_audit_store_LDADD = $(SR_AUDIT_LIBS)

# The verb group with SSH-side roles (saferoomctl always acts as admin).
check_PROGRAMS += tests/unit/test_verbs_audit
tests_unit_test_verbs_audit_SOURCES = tests/unit/test_verbs_audit.c tests/unit/tap.h
tests_unit_test_verbs_audit_CFLAGS = $(SR_AUDIT_TEST_CFLAGS)
tests_unit_test_verbs_audit_LDADD = $(SR_BROKER_LIBS)

TESTS += \
	tests/unit/test_audit_chain \
	tests/unit/test_audit_store \
	tests/unit/test_verbs_audit \
	tests/cli/audit_query.sh \
	tests/cli/audit_verify.sh
EXTRA_DIST += tests/cli/audit_query.sh tests/cli/audit_verify.sh
