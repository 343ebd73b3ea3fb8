/*
 * sandbox_limits.c — a project's sandbox limits: its overrides, else the
 * configuration's defaults.  Both sides count in the units of `project set`
 * (bytes, processes, percent of one CPU, seconds); only the CPU needs
 * converting, since the sandbox counts thousandths of a core.
 */
#include "config.h"

#include <string.h>

#include "sandbox_limits.h"

static uint64_t
pick(int64_t project, int64_t def)
{
	return (uint64_t)(project > 0 ? project : def);
}

void
sr_sandbox_limits_for(const struct sr_config *cfg, const struct sr_policy_limits *p,
		      struct sr_sandbox_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->memory_bytes = pick(p->memory, cfg->sandbox_memory);
	l->pids = pick(p->pids, cfg->sandbox_pids);
	l->cpu_millis = (unsigned)(pick(p->cpu, cfg->sandbox_cpu) * 10);
	l->tmp_bytes = pick(p->tmp_size, cfg->sandbox_tmp_size);
	l->max_file_bytes = pick(p->max_file_size, cfg->sandbox_max_file_size);
	l->idle_s = (unsigned)pick(p->idle_timeout, cfg->idle_timeout);
	l->wall_clock_s = (unsigned)pick(p->max_session, cfg->max_session);
}
