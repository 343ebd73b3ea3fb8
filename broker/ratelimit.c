/*
 * ratelimit.c — failed logins counted across every connection.
 *
 * Each connection has its own monitor process, so a count kept in one
 * monitor would reset with every new TCP connection and an attacker would
 * simply reconnect.  The master maps one table MAP_SHARED before it forks
 * monitors; monitors (root) count failures in it and the master consults it
 * before it forks for a new source.  The net child unmaps it before it drops
 * privileges, so code that parses network input never sees it.
 *
 * A robust process-shared mutex guards the table, because a monitor may be
 * killed while it holds the lock and the next one must still get in.  The
 * table is small and fixed: when it is full the entry whose last failure is
 * oldest is reused, so a flood of sources cannot grow memory, only forget
 * the quietest offender.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "broker.h"

#define RL_SLOTS 4096
#define RL_KEY_MAX 80

struct rl_slot {
	char key[RL_KEY_MAX];
	time_t window_start;
	time_t last_fail;
	int count;
};

struct sr_ratelimit {
	pthread_mutex_t lock;
	struct rl_slot slots[RL_SLOTS];
};

struct sr_ratelimit *
sr_ratelimit_new(struct sr_error *err)
{
	pthread_mutexattr_t attr;
	struct sr_ratelimit *rl;

	rl = mmap(NULL, sizeof(*rl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rl == MAP_FAILED) {
		sr_error_errno(err, "rate limit table");
		return NULL;
	}
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rl->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return rl;
}

void
sr_ratelimit_free(struct sr_ratelimit *rl)
{
	if (rl != NULL)
		munmap(rl, sizeof(*rl));
}

static void
rl_lock(struct sr_ratelimit *rl)
{
	/* The previous holder died mid-update; its slot is at worst miscounted. */
	if (pthread_mutex_lock(&rl->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&rl->lock);
}

static struct rl_slot *
rl_find(struct sr_ratelimit *rl, const char *key, int create)
{
	struct rl_slot *oldest = &rl->slots[0];
	size_t i;

	for (i = 0; i < RL_SLOTS; i++) {
		if (strcmp(rl->slots[i].key, key) == 0)
			return &rl->slots[i];
		if (rl->slots[i].last_fail < oldest->last_fail)
			oldest = &rl->slots[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	return oldest;
}

int
sr_ratelimit_blocked(struct sr_ratelimit *rl, const char *key, int max, int window,
		     int block, time_t now)
{
	struct rl_slot *s;
	int left = 0;

	if (rl == NULL || max <= 0)
		return 0;
	rl_lock(rl);
	s = rl_find(rl, key, 0);
	if (s != NULL && s->count >= max && now < s->last_fail + block)
		left = (int)(s->last_fail + block - now);
	pthread_mutex_unlock(&rl->lock);
	return left;
}

void
sr_ratelimit_fail(struct sr_ratelimit *rl, const char *key, int window, time_t now)
{
	struct rl_slot *s;

	if (rl == NULL)
		return;
	rl_lock(rl);
	s = rl_find(rl, key, 1);
	if (now >= s->window_start + window) {
		s->window_start = now;
		s->count = 0;
	}
	s->count++;
	s->last_fail = now;
	pthread_mutex_unlock(&rl->lock);
}
