# audit/: the tamper-evident audit trail.  Depends on no other module.
noinst_LIBRARIES += libsraudit.a
libsraudit_a_SOURCES = \
	audit/chain.c \
	audit/client.c \
	audit/client.h \
	audit/client_local.c \
	audit/clock.c \
	audit/kernel.c \
	audit/prune.c \
	audit/query.c \
	audit/recorder.c \
	audit/recording.c \
	audit/seals.c \
	audit/space.c \
	audit/store.c \
	audit/store.h \
	audit/verify.c \
	audit/wire.c \
	audit/wire.h \
	audit/writer.c \
	include/saferoom/audit.h \
	include/saferoom/error.h
libsraudit_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBAUDIT_CFLAGS) $(LIBCRYPTO_CFLAGS) \
	$(JSONC_CFLAGS) $(ZLIB_CFLAGS)
SR_AUDIT_LIBS = libsraudit.a $(SQLITE_LIBS) $(LIBAUDIT_LIBS) $(LIBCRYPTO_LIBS) $(JSONC_LIBS) \
	$(ZLIB_LIBS)

# The single writer of audit.db; saferoomd starts it, tests start it directly.
pkglibexec_PROGRAMS += saferoom-audit-writer
saferoom_audit_writer_SOURCES = audit/writer_main.c
saferoom_audit_writer_LDADD = $(SR_AUDIT_LIBS)
