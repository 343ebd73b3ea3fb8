# tests for the broker (saferoomd): unit tests of its parts, end-to-end tests
# with the real OpenSSH client and PuTTY's plink against a running saferoomd.
check_PROGRAMS += tests/unit/test_osc52
tests_unit_test_osc52_SOURCES = tests/unit/test_osc52.c tests/unit/tap.h broker/osc52.c \
	broker/osc52.h
tests_unit_test_osc52_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/broker
check_PROGRAMS += tests/unit/test_lineedit
tests_unit_test_lineedit_SOURCES = tests/unit/test_lineedit.c tests/unit/tap.h broker/lineedit.c \
	broker/lineedit.h
tests_unit_test_lineedit_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/broker

TESTS += \
	tests/unit/test_lineedit \
	tests/unit/test_osc52 \
	tests/e2e/broker_admission.sh \
	tests/e2e/broker_disk.sh \
	tests/e2e/broker_channels.sh \
	tests/e2e/broker_lifecycle.sh \
	tests/e2e/broker_sessions.sh \
	tests/e2e/broker_verbs.sh \
	tests/e2e/demo.sh
EXTRA_DIST += \
	tests/bench/broker-bench-lib.sh \
	tests/bench/broker_idle.sh \
	tests/bench/broker_login.sh \
	tests/bench/broker_throughput.sh \
	tests/e2e/broker-lib.sh \
	tests/e2e/broker_admission.sh \
	tests/e2e/broker_disk.sh \
	tests/e2e/broker_channels.sh \
	tests/e2e/broker_lifecycle.sh \
	tests/e2e/broker_sessions.sh \
	tests/e2e/broker_verbs.sh \
	tests/e2e/demo.sh
