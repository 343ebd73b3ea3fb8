/*
 * capabilities.c — no capability, and no way to get one back (libcap).
 *
 * While the child is still root it empties the bounding set (so that no
 * exec, not even of a file with capabilities, can grant one) and locks the
 * securebits: no special treatment of uid 0 (NOROOT), no keeping
 * capabilities across the uid change (KEEP_CAPS locked off), no ambient
 * raise, each bit locked so that it cannot be flipped later.  After the uid
 * change it empties the effective, permitted, inheritable and ambient sets
 * and checks that every one of them, and the bounding set, is empty.
 */
#include "config.h"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "internal.h"

#define SR_SECUREBITS                                                            \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |  \
	 SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |               \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

void
sr_caps_lock(int rfd)
{
	cap_value_t c, last = (cap_value_t)cap_max_bits();

	for (c = 0; c < last; c++)
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
			sr_child_die_errno(rfd, "dropping capability %d from the bounding set", c);
	if (cap_set_secbits(SR_SECUREBITS) < 0)
		sr_child_die_errno(rfd, "securebits");
}

void
sr_caps_clear(int rfd)
{
	cap_t empty, now;
	cap_value_t c, last = (cap_value_t)cap_max_bits();
	int same;

	empty = cap_init();
	if (empty == NULL)
		sr_child_die_errno(rfd, "cap_init");
	if (cap_set_proc(empty) < 0)
		sr_child_die_errno(rfd, "clearing capabilities");
	if (cap_reset_ambient() < 0)
		sr_child_die_errno(rfd, "clearing ambient capabilities");
	now = cap_get_proc();
	if (now == NULL)
		sr_child_die_errno(rfd, "cap_get_proc");
	same = cap_compare(now, empty) == 0;
	cap_free(now);
	cap_free(empty);
	if (!same)
		sr_child_die(rfd, "capabilities remain after clearing");
	for (c = 0; c < last; c++)
		if (cap_get_bound(c) > 0 || cap_get_ambient(c) > 0)
			sr_child_die(rfd, "capability %d remains in the bounding or ambient set", c);
	if ((unsigned)cap_get_secbits() != SR_SECUREBITS)
		sr_child_die(rfd, "securebits did not stick");
}
