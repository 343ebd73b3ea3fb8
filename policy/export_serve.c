/*
 * export_serve.c — the monitor's side of a session's export socket: what
 * saferoom-export asks inside the sandbox, answered outside it.
 *
 * Identity is the session the monitor gives us, never the client: a request
 * names a path, a reason or a request id, and nothing about who sends it.
 * SO_PEERCRED is compared with the session's uid only as a sanity check
 * (the socket is bind-mounted into this session's sandbox alone, so a
 * different peer means something is wrong, and we stop).  Requests are
 * served one after another until the client closes, each answered with
 * {"ok":true,...} or {"ok":false,"error":"one line"}; a malformed frame or
 * a silent peer ends the connection.
 */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export_internal.h"

#define REQUESTS_PER_CONNECTION 64

/* A string member: present, a string, without NUL bytes inside. */
static const char *
member_str(struct json_object *req, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static struct json_object *
failure(const char *msg, int64_t id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	if (id > 0)
		json_object_object_add(o, "id", json_object_new_int64(id));
	return o;
}

static struct json_object *
success(const char *message)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	if (message != NULL)
		json_object_object_add(o, "message", json_object_new_string(message));
	return o;
}

/* One check as the researcher sees it: everything but the locations. */
static struct json_object *
check_summary(struct json_object *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_foreach(c, key, val) {
		if (strcmp(key, "locations") != 0)
			json_object_object_add(o, key, json_object_get(val));
	}
	return o;
}

/* The checks of a request as the researcher sees them: name, verdict, message. */
static void
add_checks(struct sr_policy *p, int64_t id, struct json_object *resp)
{
	struct json_object *show = sr_export_show(p, id, NULL), *checks, *v, *out;

	if (show == NULL)
		return;
	out = json_object_new_array();
	if (json_object_object_get_ex(show, "checks", &checks)) {
		for (size_t i = 0; i < json_object_array_length(checks); i++)
			json_object_array_add(out, check_summary(json_object_array_get_idx(checks, i)));
	}
	if (json_object_object_get_ex(show, "verdict", &v))
		json_object_object_add(resp, "verdict", json_object_get(v));
	json_object_object_add(resp, "checks", out);
	json_object_put(show);
}

static struct json_object *
op_submit(struct sr_policy *p, const struct sr_export_session *who, struct json_object *req)
{
	const char *path = member_str(req, "path"), *reason = member_str(req, "reason");
	struct sr_error err = { { 0 } };
	struct json_object *resp;
	char msg[SR_ERROR_MAX + 128];
	int64_t id = 0;

	if (path == NULL)
		return failure("submit: which file?", 0);
	if (sr_export_submit(p, who, path, reason, &id, &err) < 0) {
		if (id == 0)
			return failure(sr_error_msg(&err), 0);
		snprintf(msg, sizeof(msg), "request %lld was recorded but its checks could not run "
			 "(%s): a steward can only reject it", (long long)id, sr_error_msg(&err));
		return failure(msg, id);
	}
	snprintf(msg, sizeof(msg), "request %lld submitted", (long long)id);
	resp = success(msg);
	json_object_object_add(resp, "id", json_object_new_int64(id));
	add_checks(p, id, resp);
	return resp;
}

static struct json_object *
op_list(struct sr_policy *p, const struct sr_export_session *who)
{
	struct sr_export_filter f = { .requester = who->user, .project = who->project };
	struct sr_error err = { { 0 } };
	struct json_object *list = sr_export_list(p, &f, &err), *resp;

	if (list == NULL)
		return failure(sr_error_msg(&err), 0);
	resp = success(NULL);
	json_object_object_add(resp, "requests", list);
	return resp;
}

static struct json_object *
op_withdraw(struct sr_policy *p, struct json_object *req)
{
	struct sr_error err = { { 0 } };
	struct json_object *v;
	char msg[64];
	int64_t id;

	if (!json_object_object_get_ex(req, "id", &v) || !json_object_is_type(v, json_type_int) ||
	    (id = json_object_get_int64(v)) < 1)
		return failure("withdraw: which request? give its number", 0);
	if (sr_export_withdraw(p, id, &err) < 0)
		return failure(sr_error_msg(&err), 0);
	snprintf(msg, sizeof(msg), "request %lld withdrawn", (long long)id);
	return success(msg);
}

static struct json_object *
answer(struct sr_policy *p, const struct sr_export_session *who, struct json_object *req)
{
	const char *op = member_str(req, "op");

	if (op == NULL)
		return failure("a request needs an \"op\"", 0);
	if (strcmp(op, "submit") == 0)
		return op_submit(p, who, req);
	if (strcmp(op, "list") == 0)
		return op_list(p, who);
	if (strcmp(op, "withdraw") == 0)
		return op_withdraw(p, req);
	return failure("unknown request (submit, list, withdraw)", 0);
}

/*
 * Sends a last {"ok":false} (best effort) and returns -1 with ERR set to MSG.
 * What the peer sent meanwhile is read and dropped for a moment: closing a
 * unix socket with unread data resets it, and the peer would see a reset
 * instead of the reason.
 */
static int
drop(int fd, struct sr_error *err, const char *msg)
{
	struct json_object *o = failure(msg, 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char sink[4096];
	int rounds = 16;

	sr_export_msg_send(fd, o, NULL);
	json_object_put(o);
	shutdown(fd, SHUT_WR);
	while (rounds-- > 0 && poll(&pfd, 1, 1000) == 1 && recv(fd, sink, sizeof(sink), 0) > 0)
		;
	return sr_error_set(err, "%s", msg);
}

static int
peer_ok(int fd, const struct sr_export_session *who, struct sr_error *err)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return sr_error_errno(err, "export socket: SO_PEERCRED");
	if (cred.uid != who->uid)
		return drop(fd, err, "export socket: the peer is not the session's user");
	return 0;
}

static struct sr_policy *
open_policy(const struct sr_export_session *who, struct sr_error *err)
{
	struct sr_policy_actor actor = {
		.user = who->user, .source = who->source, .session = who->session,
	};

	if (who->state_dir == NULL || who->user == NULL) {
		sr_error_set(err, "export socket: the session has no user or state_dir");
		return NULL;
	}
	return sr_policy_open(who->state_dir, &actor, err);
}

static int
serve(int fd, struct sr_policy *p, const struct sr_export_session *who, struct sr_error *err)
{
	struct json_object *req, *resp;
	int rc;

	for (int n = 0; n < REQUESTS_PER_CONNECTION; n++) {
		rc = sr_export_msg_recv(fd, SR_EXPORT_IO_TIMEOUT_MS, &req, err);
		if (rc <= 0)
			return rc;
		resp = answer(p, who, req);
		json_object_put(req);
		rc = sr_export_msg_send(fd, resp, err);
		json_object_put(resp);
		if (rc < 0)
			return -1;
	}
	return drop(fd, err, "export socket: too many requests on one connection");
}

int
sr_export_serve(int connfd, const struct sr_export_session *who, struct sr_error *err)
{
	struct sr_error perr = { { 0 } };
	struct sr_policy *p;
	int rc;

	if (peer_ok(connfd, who, err) < 0)
		return -1;
	p = open_policy(who, &perr);
	if (p == NULL) {
		drop(connfd, NULL, "the export service is unavailable: policy.db cannot be opened");
		return sr_error_set(err, "%s", sr_error_msg(&perr));
	}
	rc = serve(connfd, p, who, err);
	sr_policy_free(p);
	return rc;
}
