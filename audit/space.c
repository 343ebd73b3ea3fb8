/*
 * space.c — is there room left for the audit trail?
 *
 * A session that runs while its trail cannot be written is a session no one
 * can review, so saferoomd refuses new sessions once the file system of the
 * state directory (audit.db, recordings/) runs low, instead of finding out
 * from a failed commit halfway through one.  Running sessions are not cut
 * off here: they end when a write really fails (the writer fails closed).
 *
 * The space counted is what an unprivileged user could still allocate
 * (f_bavail), not the blocks reserved for root: the writer runs as root and
 * may use the reserve, which leaves it room to finish the sessions already
 * running after new ones are refused.
 */
#include "config.h"

#include <inttypes.h>
#include <sys/statvfs.h>

#include "saferoom/audit.h"

/* A file system with fewer free inodes than this cannot hold many more recordings. */
#define MIN_FREE_INODES 256

/* "1.5 GiB": sizes in the message an operator reads. */
static void
human(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t i = 0;

	while (v >= 1024 && i + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, outlen, "%" PRIu64 " bytes", bytes);
	else
		snprintf(out, outlen, "%.1f %s", v, unit[i]);
}

int
sr_audit_space_ok(const char *state_dir, uint64_t min_free_bytes, struct sr_error *err)
{
	char have[32], want[32];
	struct statvfs sv;
	uint64_t avail;

	if (statvfs(state_dir, &sv) < 0)
		return sr_error_errno(err, "%s: cannot tell the free space", state_dir);
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	if (avail < min_free_bytes) {
		human(avail, have, sizeof(have));
		human(min_free_bytes, want, sizeof(want));
		return sr_error_set(err, "%s: only %s free, below the %s kept for the audit trail;"
				    " no new sessions until space is freed", state_dir, have, want);
	}
	/* f_files is 0 on file systems without a fixed inode table (btrfs): nothing to count. */
	if (sv.f_files != 0 && sv.f_favail < MIN_FREE_INODES)
		return sr_error_set(err, "%s: only %llu inodes free; no new sessions until some"
				    " are freed", state_dir, (unsigned long long)sv.f_favail);
	return 0;
}
