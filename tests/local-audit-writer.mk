# tests for audit-writer: the single writer, its producers' client, the kernel bridge.
SR_AUDIT_WRITER_TEST_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JSONC_CFLAGS)

# A producer that reports what the writer acknowledged; tests and the benchmark drive it.
check_PROGRAMS += tests/tools/audit-producer tests/tools/kaudit-emit
tests_tools_audit_producer_SOURCES = tests/tools/audit-producer.c
tests_tools_audit_producer_CFLAGS = $(SR_AUDIT_WRITER_TEST_CFLAGS)
tests_tools_audit_producer_LDADD = $(SR_AUDIT_LIBS)
tests_tools_kaudit_emit_SOURCES = tests/tools/kaudit-emit.c
tests_tools_kaudit_emit_CFLAGS = $(SR_AUDIT_WRITER_TEST_CFLAGS)
tests_tools_kaudit_emit_LDADD = $(SR_AUDIT_LIBS)

# The raw SQLite baseline of tests/bench/audit_events.sh.
check_PROGRAMS += tests/bench/audit-raw-sqlite
tests_bench_audit_raw_sqlite_SOURCES = tests/bench/audit-raw-sqlite.c
tests_bench_audit_raw_sqlite_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS)
tests_bench_audit_raw_sqlite_LDADD = $(SQLITE_LIBS)

check_PROGRAMS += tests/unit/test_audit_wire
tests_unit_test_audit_wire_SOURCES = tests/unit/test_audit_wire.c tests/unit/tap.h
tests_unit_test_audit_wire_CFLAGS = $(SR_AUDIT_WRITER_TEST_CFLAGS) -I$(top_srcdir)/audit
tests_unit_test_audit_wire_LDADD = $(SR_AUDIT_LIBS)

TESTS += \
	tests/unit/test_audit_wire \
	tests/cli/audit_writer.sh \
	tests/cli/audit_kernel.sh
EXTRA_DIST += tests/cli/audit_writer.sh tests/cli/audit_kernel.sh tests/bench/audit_events.sh
