# tests for packaging and operations: the Debian package, the man pages,
# log retention (audit prune), compressed recordings and disk space.
SR_PACKAGING_TEST_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JSONC_CFLAGS)

check_PROGRAMS += tests/unit/test_audit_prune
tests_unit_test_audit_prune_SOURCES = tests/unit/test_audit_prune.c tests/unit/tap.h
tests_unit_test_audit_prune_CFLAGS = $(SR_PACKAGING_TEST_CFLAGS) -I$(top_srcdir)/audit
tests_unit_test_audit_prune_LDADD = $(SR_AUDIT_LIBS)

SR_PACKAGING_TESTS = \
	tests/cli/audit_prune.sh \
	tests/cli/debian_package.sh \
	tests/cli/man_pages.sh \
	tests/cli/recording_compress.sh
TESTS += tests/unit/test_audit_prune $(SR_PACKAGING_TESTS)
EXTRA_DIST += $(SR_PACKAGING_TESTS)
