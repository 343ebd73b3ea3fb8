# broker/: saferoomd, saferoomctl, the configuration and the verbs they share.
noinst_LIBRARIES += libsrbroker.a
libsrbroker_a_SOURCES = \
	broker/config.c \
	broker/verbs.c \
	broker/verbs_audit.c \
	broker/verbs_dataset.c \
	broker/verbs_init.c \
	broker/verbs_policy.h \
	broker/verbs_project.c \
	broker/verbs_user.c \
	include/saferoom/config.h \
	include/saferoom/verbs.h
libsrbroker_a_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS)
SR_BROKER_LIBS = libsrbroker.a $(SR_POLICY_LIBS) $(SR_AUDIT_LIBS) $(LIBSSH_LIBS) $(JSONC_LIBS)

sbin_PROGRAMS += saferoomctl
saferoomctl_SOURCES = broker/saferoomctl.c
saferoomctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
saferoomctl_LDADD = $(SR_BROKER_LIBS)

