# tests for policy: decisions, validation, the policy verbs of saferoomctl.
SR_POLICY_TEST_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBOATH_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/policy
SR_POLICY_TEST_LIBS = $(SR_POLICY_LIBS) $(SR_AUDIT_LIBS)

check_PROGRAMS += tests/unit/test_policy_decide tests/unit/test_policy_validate
tests_unit_test_policy_decide_SOURCES = tests/unit/test_policy_decide.c tests/unit/tap.h
tests_unit_test_policy_decide_CFLAGS = $(SR_POLICY_TEST_CFLAGS)
tests_unit_test_policy_decide_LDADD = $(SR_POLICY_TEST_LIBS)
tests_unit_test_policy_validate_SOURCES = tests/unit/test_policy_validate.c tests/unit/tap.h
tests_unit_test_policy_validate_CFLAGS = $(SR_POLICY_TEST_CFLAGS)
tests_unit_test_policy_validate_LDADD = $(SR_POLICY_TEST_LIBS)

# Fills a policy.db of benchmark size directly (tests/bench/policy_login.sh).
check_PROGRAMS += tests/bench/policy-login-bench
tests_bench_policy_login_bench_SOURCES = tests/bench/policy-login-bench.c
tests_bench_policy_login_bench_CFLAGS = $(SR_POLICY_TEST_CFLAGS)
tests_bench_policy_login_bench_LDADD = $(SR_POLICY_TEST_LIBS)

TESTS += \
	tests/unit/test_policy_decide \
	tests/unit/test_policy_validate \
	tests/cli/policy_roundtrip.sh \
	tests/cli/policy_badinput.sh \
	tests/cli/policy_migrate.sh \
	tests/cli/policy_concurrent.sh
EXTRA_DIST += tests/cli/policy_roundtrip.sh tests/cli/policy_badinput.sh \
	tests/cli/policy_migrate.sh tests/cli/policy_concurrent.sh tests/bench/policy_login.sh
