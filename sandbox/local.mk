# sandbox/: the per-project sandbox.  Depends only on audit.
noinst_LIBRARIES += libsrsandbox.a
libsrsandbox_a_SOURCES = \
	include/saferoom/sandbox.h \
	sandbox/capabilities.c \
	sandbox/exec_monitor.c \
	sandbox/identity.c \
	sandbox/internal.h \
	sandbox/limits.c \
	sandbox/mounts.c \
	sandbox/namespaces.c \
	sandbox/sandbox.c \
	sandbox/seccomp.c \
	sandbox/supervise.c
libsrsandbox_a_CFLAGS = $(AM_CFLAGS) $(LIBSECCOMP_CFLAGS) $(LIBCAP_CFLAGS) $(JSONC_CFLAGS)
SR_SANDBOX_LIBS = libsrsandbox.a $(SR_AUDIT_LIBS) $(LIBSECCOMP_LIBS) $(LIBCAP_LIBS) $(JSONC_LIBS)
