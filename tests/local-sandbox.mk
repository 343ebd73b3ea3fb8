# tests for the sandbox: unit tests of its facilities, attacks run inside it
# (tests/escape/), and the tools both use.
SR_SANDBOX_TEST_CFLAGS = $(AM_CFLAGS) $(LIBSECCOMP_CFLAGS) $(LIBCAP_CFLAGS) $(JSONC_CFLAGS)

# sandbox-run builds a sandbox from command-line options (no policy.db);
# sandbox-probe is copied into a workspace and runs the attacks from inside.
check_PROGRAMS += tests/tools/sandbox-run tests/tools/sandbox-probe
tests_tools_sandbox_run_SOURCES = tests/tools/sandbox-run.c
tests_tools_sandbox_run_CFLAGS = $(SR_SANDBOX_TEST_CFLAGS)
tests_tools_sandbox_run_LDADD = $(SR_SANDBOX_LIBS)
tests_tools_sandbox_probe_SOURCES = tests/tools/sandbox-probe.c
# The probe runs inside the sandbox: no sanitizer runtime (see configure.ac).
tests_tools_sandbox_probe_CFLAGS = $(SR_CFLAGS_NOSAN)
tests_tools_sandbox_probe_LDFLAGS = $(SR_LDFLAGS_NOSAN)

# Attacks that must fail, run as root inside real sandboxes.
SR_ESCAPE_TESTS = \
	tests/escape/exec_log.sh \
	tests/escape/files.sh \
	tests/escape/limits.sh \
	tests/escape/network.sh \
	tests/escape/privileges.sh \
	tests/escape/teardown.sh
TESTS += $(SR_ESCAPE_TESTS)
EXTRA_DIST += $(SR_ESCAPE_TESTS) tests/escape/lib-escape.sh tests/bench/sandbox_start.sh

# Unit tests of the facilities; they include sandbox/internal.h.
SR_SANDBOX_UNIT_TESTS = \
	tests/unit/test_sandbox_cgroup \
	tests/unit/test_sandbox_seccomp \
	tests/unit/test_sandbox_spec
check_PROGRAMS += $(SR_SANDBOX_UNIT_TESTS)
tests_unit_test_sandbox_cgroup_SOURCES = tests/unit/test_sandbox_cgroup.c tests/unit/tap.h
tests_unit_test_sandbox_cgroup_CFLAGS = $(SR_SANDBOX_TEST_CFLAGS) -I$(top_srcdir)/sandbox
tests_unit_test_sandbox_cgroup_LDADD = $(SR_SANDBOX_LIBS)
tests_unit_test_sandbox_seccomp_SOURCES = tests/unit/test_sandbox_seccomp.c tests/unit/tap.h
tests_unit_test_sandbox_seccomp_CFLAGS = $(SR_SANDBOX_TEST_CFLAGS) -I$(top_srcdir)/sandbox
tests_unit_test_sandbox_seccomp_LDADD = $(SR_SANDBOX_LIBS)
tests_unit_test_sandbox_spec_SOURCES = tests/unit/test_sandbox_spec.c tests/unit/tap.h
tests_unit_test_sandbox_spec_CFLAGS = $(SR_SANDBOX_TEST_CFLAGS) -I$(top_srcdir)/sandbox
tests_unit_test_sandbox_spec_LDADD = $(SR_SANDBOX_LIBS)
TESTS += $(SR_SANDBOX_UNIT_TESTS)
