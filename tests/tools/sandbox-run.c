/*
 * sandbox-run.c — starts a sandbox from a spec given on the command line,
 * without policy.db: the escape tests, unit-free experiments and the
 * benchmark use it to build exactly the sandbox the broker builds, with
 * names, ids, datasets and limits of their choosing.  Everything after "--"
 * is the command.  Exec events go to the audit writer running on
 * --state-dir, as under saferoomd; without one the sandbox is not built.
 * Exit status: the command's, 125 when the sandbox could not be built, 2 on
 * bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saferoom/audit.h"
#include "saferoom/sandbox.h"

#define MAX_DATASETS 32

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: sandbox-run --user U --uid N --project P --gid N --workspace DIR\n"
		"       --state-dir DIR [--session S] [--home REL] [--dataset NAME=PATH]...\n"
		"       [--memory B] [--pids N] [--cpu MILLICORES] [--tmp-size B]\n"
		"       [--max-file-size B] [--idle S] [--wall-clock S] [--pty] [--term T]\n"
		"       [--cgroup-parent NAME] [--no-exec-log] -- CMD [ARG...]\n");
	exit(2);
}

/* "64M", "1G", "4096": bytes. */
static uint64_t
size_arg(const char *text)
{
	char *end;
	unsigned long long v = strtoull(text, &end, 10);

	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	default: break;
	}
	if (end == text || *end != '\0') {
		fprintf(stderr, "sandbox-run: bad number %s\n", text);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", 1, NULL, 'u' }, { "uid", 1, NULL, 'U' }, { "project", 1, NULL, 'p' },
		{ "gid", 1, NULL, 'G' }, { "session", 1, NULL, 's' }, { "home", 1, NULL, 'h' },
		{ "dataset", 1, NULL, 'd' }, { "workspace", 1, NULL, 'w' },
		{ "state-dir", 1, NULL, 'S' }, { "memory", 1, NULL, 'm' }, { "pids", 1, NULL, 'P' },
		{ "cpu", 1, NULL, 'c' }, { "tmp-size", 1, NULL, 't' },
		{ "max-file-size", 1, NULL, 'f' }, { "idle", 1, NULL, 'i' },
		{ "wall-clock", 1, NULL, 'W' }, { "pty", 0, NULL, 'y' }, { "term", 1, NULL, 'T' },
		{ "cgroup-parent", 1, NULL, 'C' }, { "no-exec-log", 0, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct sr_sandbox_dataset ds[MAX_DATASETS];
	struct sr_sandbox_spec spec;
	struct sr_error err = { { 0 } };
	const char *state_dir = NULL;
	char *eq;
	int c, rc;

	memset(&spec, 0, sizeof(spec));
	spec.session = "sandbox-run";
	spec.limits.tmp_bytes = 64ULL << 20;
	spec.cgroup_parent = "saferoom-test";
	spec.datasets = ds;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': spec.user = optarg; break;
		case 'U': spec.uid = (uid_t)size_arg(optarg); break;
		case 'p': spec.project = optarg; break;
		case 'G': spec.gid = (gid_t)size_arg(optarg); break;
		case 's': spec.session = optarg; break;
		case 'h': spec.home = optarg; break;
		case 'w': spec.workspace = optarg; break;
		case 'S': state_dir = optarg; break;
		case 'm': spec.limits.memory_bytes = size_arg(optarg); break;
		case 'P': spec.limits.pids = size_arg(optarg); break;
		case 'c': spec.limits.cpu_millis = (unsigned)size_arg(optarg); break;
		case 't': spec.limits.tmp_bytes = size_arg(optarg); break;
		case 'f': spec.limits.max_file_bytes = size_arg(optarg); break;
		case 'i': spec.limits.idle_s = (unsigned)size_arg(optarg); break;
		case 'W': spec.limits.wall_clock_s = (unsigned)size_arg(optarg); break;
		case 'y': spec.pty = 1; break;
		case 'T': spec.term = optarg; break;
		case 'C': spec.cgroup_parent = optarg; break;
		case 'n': spec.exec_log_off = 1; break;
		case 'd':
			eq = strchr(optarg, '=');
			if (eq == NULL || spec.n_datasets == MAX_DATASETS)
				usage();
			*eq = '\0';
			ds[spec.n_datasets].name = optarg;
			ds[spec.n_datasets++].path = eq + 1;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || spec.user == NULL || spec.project == NULL || state_dir == NULL)
		usage();
	spec.argv = argv + optind;
	/* A running writer only, as under saferoomd: this program links no store. */
	spec.audit = sr_audit_client_connect(state_dir, &err);
	rc = spec.audit != NULL ? sr_sandbox_run(&spec, &err) : -1;
	sr_audit_client_free(spec.audit);
	if (rc < 0) {
		fprintf(stderr, "sandbox-run: %s\n", sr_error_msg(&err));
		return SR_SANDBOX_EXIT_FAILED;
	}
	return rc;
}
