# policy/: who may do what (policy.db).  Depends only on audit.
noinst_LIBRARIES += libsrpolicy.a
libsrpolicy_a_SOURCES = \
	include/saferoom/export.h \
	include/saferoom/policy.h \
	policy/cidr.c \
	policy/datasets.c \
	policy/db.c \
	policy/decide.c \
	policy/export_check_caps.c \
	policy/export_check_cells.c \
	policy/export_check_filetype.c \
	policy/export_check_identifiers.c \
	policy/export_check_rows.c \
	policy/export_checks.c \
	policy/export_diff.c \
	policy/export_internal.h \
	policy/export_preview.c \
	policy/export_proto.c \
	policy/export_request.c \
	policy/export_serve.c \
	policy/export_submit.c \
	policy/export_table.c \
	policy/export_text.c \
	policy/export_views.c \
	policy/internal.h \
	policy/keys.c \
	policy/limits.c \
	policy/projects.c \
	policy/qr.c \
	policy/quarantine.c \
	policy/rowindex.c \
	policy/users.c \
	policy/validate.c \
	policy/views.c
libsrpolicy_a_CFLAGS = $(AM_CFLAGS) $(SQLITE_CFLAGS) $(LIBSSH_CFLAGS) $(LIBOATH_CFLAGS) \
	$(LIBQRENCODE_CFLAGS) $(LIBCRYPTO_CFLAGS) $(JSONC_CFLAGS)
SR_POLICY_LIBS = libsrpolicy.a $(SQLITE_LIBS) $(LIBSSH_LIBS) $(LIBOATH_LIBS) \
	$(LIBQRENCODE_LIBS) $(LIBCRYPTO_LIBS) $(JSONC_LIBS)

# saferoom-export: the researcher's client inside the sandbox.  It speaks the
# export socket's protocol and nothing else, so it links no database.
bin_PROGRAMS += saferoom-export
saferoom_export_SOURCES = policy/export_client.c policy/export_proto.c policy/export_text.c
# It runs inside the sandbox: no sanitizer runtime (see configure.ac).
saferoom_export_CFLAGS = $(SR_CFLAGS_NOSAN) $(SQLITE_CFLAGS) $(JSONC_CFLAGS)
saferoom_export_LDFLAGS = $(SR_LDFLAGS_NOSAN)
saferoom_export_LDADD = $(JSONC_LIBS)
