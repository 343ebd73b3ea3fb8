/*
 * monitor_wrap.h — the net child's side of the monitor: one function per
 * request, each sending it and waiting for the answer.  The net child calls
 * these from its libssh callbacks; it decides nothing on its own.
 */
#ifndef SAFEROOM_MONITOR_WRAP_H
#define SAFEROOM_MONITOR_WRAP_H

#include <stddef.h>

#include "monitor_proto.h"

/* The control socket every later call uses. */
void mm_init(int ctl);

/* state: 0 probe (no signature yet), 1 signature valid, 2 signature bad. */
enum sr_mon_auth mm_auth_pubkey(const char *user, const char *type, const char *fingerprint,
				int state);
/* 1 with the texts to show when the user has a TOTP challenge pending, else 0. */
int mm_kbdint_query(const char *user, char *name, size_t namelen, char *instruction,
		    size_t instrlen, char *prompt, size_t promptlen);
enum sr_mon_auth mm_kbdint_answer(const char *code);
/* Reports an authentication method that is never allowed (password, ...). */
void mm_auth_method(const char *user, const char *method);
/* Reports something the net child refused on its own (forwarding, x11, agent). */
void mm_denied(const char *what, const char *detail);

/* Each returns 1 when allowed, else 0 with a message for the user in msg. */
int mm_env(const char *name, const char *value, char *msg, size_t msglen);
int mm_pty(const char *term, int cols, int rows, char *msg, size_t msglen);
int mm_shell(char *msg, size_t msglen);
int mm_exec(const char *command, char *msg, size_t msglen);
int mm_subsystem(const char *name, char *msg, size_t msglen);
void mm_winch(int cols, int rows);

#endif /* SAFEROOM_MONITOR_WRAP_H */
