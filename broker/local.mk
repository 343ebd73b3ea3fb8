# broker/: saferoomd, saferoomctl, the configuration and the verbs they share.
noinst_LIBRARIES += libsrbroker.a
libsrbroker_a_SOURCES = \
	broker/config.c \
	broker/export_limits.c \
	broker/export_limits.h \
	broker/sandbox_limits.c \
	broker/sandbox_limits.h \
	broker/verbs.c \
	broker/verbs_audit.c \
	broker/verbs_dataset.c \
	broker/verbs_export.c \
	broker/verbs_init.c \
	broker/verbs_policy.h \
	broker/verbs_project.c \
	broker/verbs_sandbox.c \
	broker/verbs_user.c \
	include/saferoom/config.h \
	include/saferoom/verbs.h
libsrbroker_a_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(LIBCRYPTO_CFLAGS)
SR_BROKER_LIBS = libsrbroker.a $(SR_POLICY_LIBS) $(SR_SANDBOX_LIBS) $(SR_AUDIT_LIBS) $(LIBSSH_LIBS) $(JSONC_LIBS)

sbin_PROGRAMS += saferoomctl
saferoomctl_SOURCES = broker/saferoomctl.c
saferoomctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
saferoomctl_LDADD = $(SR_BROKER_LIBS)

# saferoomd: master, per-connection monitor and confined net child (DESIGN.md,
# "Processes and trust").
sbin_PROGRAMS += saferoomd
saferoomd_SOURCES = \
	broker/broker.h \
	broker/jail.c \
	broker/lineedit.c \
	broker/lineedit.h \
	broker/listener.c \
	broker/log.c \
	broker/log.h \
	broker/monitor.c \
	broker/monitor.h \
	broker/monitor_export.c \
	broker/monitor_proto.c \
	broker/monitor_proto.h \
	broker/monitor_session.c \
	broker/monitor_wrap.c \
	broker/monitor_wrap.h \
	broker/netchild.c \
	broker/osc52.c \
	broker/osc52.h \
	broker/ratelimit.c \
	broker/saferoomd.c \
	broker/session.c \
	broker/session.h \
	broker/verbs_ssh.c \
	broker/verbs_ssh.h \
	include/saferoom/sandbox.h
saferoomd_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) $(LIBSECCOMP_CFLAGS) $(JSONC_CFLAGS)
saferoomd_LDADD = $(SR_BROKER_LIBS) $(SR_SANDBOX_LIBS) $(LIBSECCOMP_LIBS)
