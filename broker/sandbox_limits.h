/*
 * sandbox_limits.h — the limits a session's sandbox gets: the project's own
 * (`project set`) where it has them, else saferoom.conf's defaults.  One
 * function, so that `saferoomctl sandbox run` and saferoomd build the very
 * same sandbox.
 */
#ifndef SAFEROOM_BROKER_SANDBOX_LIMITS_H
#define SAFEROOM_BROKER_SANDBOX_LIMITS_H

#include "saferoom/config.h"
#include "saferoom/policy.h"
#include "saferoom/sandbox.h"

void sr_sandbox_limits_for(const struct sr_config *cfg, const struct sr_policy_limits *project,
			   struct sr_sandbox_limits *out);

#endif
