# policy/: who may do what (policy.db).  Depends only on audit.
noinst_LIBRARIES += libsrpolicy.a
libsrpolicy_a_SOURCES = \
	include/saferoom/policy.h \
	policy/cidr.c \
	policy/datasets.c \
	policy/db.c \
	policy/decide.c \
	policy/internal.h \
	policy/keys.c \
	policy/limits.c \
	policy/projects.c \
	policy/qr.c \
	policy/rowindex.c \
	policy/users.c \
	policy/validate.c \
	policy/views.c
libsrpolicy_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBSSH_CFLAGS) $(LIBOATH_CFLAGS) \
	$(LIBQRENCODE_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JSONC_CFLAGS)
SR_POLICY_LIBS = libsrpolicy.a $(SQLITE_LIBS) $(LIBSSH_LIBS) $(LIBOATH_LIBS) \
	$(LIBQRENCODE_LIBS) $(LIBCRYPTO_LIBS) $(JSONC_LIBS)
