# tests for config-recorder: saferoom.conf parsing (broker/config.c) and the
# asciicast v2 session recorder (audit/recorder.c).
check_PROGRAMS += \
	tests/tools/record-bytes \
	tests/unit/test_config \
	tests/unit/test_recorder
TESTS += \
	tests/cli/config_doc.sh \
	tests/cli/recorder_asciinema.sh \
	tests/unit/test_config \
	tests/unit/test_recorder
EXTRA_DIST += \
	tests/cli/config_doc.sh \
	tests/cli/recorder_asciinema.sh

# config.c depends on no other module: libsrbroker.a alone must link.
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/unit/tap.h
tests_unit_test_config_LDADD = libsrbroker.a $(SR_POLICY_LIBS) $(SR_AUDIT_LIBS)

tests_unit_test_recorder_SOURCES = tests/unit/test_recorder.c tests/unit/tap.h
tests_unit_test_recorder_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(LIBCRYPTO_CFLAGS)
tests_unit_test_recorder_LDADD = $(SR_AUDIT_LIBS)

tests_tools_record_bytes_SOURCES = tests/tools/record-bytes.c
tests_tools_record_bytes_LDADD = $(SR_AUDIT_LIBS)
