# tests for export review: the checks, the state machine, submission through
# the export socket (tests/tools/export-server + the real saferoom-export),
# and the export verbs of saferoomctl.
SR_EXPORT_TEST_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(JSONC_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	-I$(top_srcdir)/policy
SR_EXPORT_TEST_LIBS = $(SR_POLICY_LIBS) $(SR_AUDIT_LIBS)

# The monitor's side of a session's export socket, without SSH or a sandbox.
check_PROGRAMS += tests/tools/export-server
tests_tools_export_server_SOURCES = tests/tools/export-server.c
tests_tools_export_server_CFLAGS = $(SR_EXPORT_TEST_CFLAGS)
tests_tools_export_server_LDADD = $(SR_EXPORT_TEST_LIBS)

check_PROGRAMS += tests/unit/test_export_checks tests/unit/test_export_request \
	tests/unit/test_export_submit
tests_unit_test_export_checks_SOURCES = tests/unit/test_export_checks.c tests/unit/tap.h
tests_unit_test_export_checks_CFLAGS = $(SR_EXPORT_TEST_CFLAGS)
tests_unit_test_export_checks_LDADD = $(SR_EXPORT_TEST_LIBS)
# The state machine through the library and through the export verbs, as each role.
tests_unit_test_export_request_SOURCES = tests/unit/test_export_request.c \
	tests/unit/export_fixture.h tests/unit/tap.h
tests_unit_test_export_request_CFLAGS = $(SR_EXPORT_TEST_CFLAGS)
tests_unit_test_export_request_LDADD = $(SR_BROKER_LIBS)
tests_unit_test_export_submit_SOURCES = tests/unit/test_export_submit.c \
	tests/unit/export_fixture.h tests/unit/tap.h
tests_unit_test_export_submit_CFLAGS = $(SR_EXPORT_TEST_CFLAGS)
tests_unit_test_export_submit_LDADD = $(SR_BROKER_LIBS)

TESTS += \
	tests/unit/test_export_checks \
	tests/unit/test_export_request \
	tests/unit/test_export_submit

# The whole loop through the real saferoom-export and saferoomctl.
TESTS += tests/cli/export_review.sh
EXTRA_DIST += tests/cli/export_review.sh

# The same loop through saferoomd and the real OpenSSH client: submission from
# a researcher's shell over the session's export socket, review and fetch over SSH.
TESTS += tests/e2e/export_loop.sh
EXTRA_DIST += tests/e2e/export_loop.sh
