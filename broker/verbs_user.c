/* verbs_user.c — being written. */
#include "config.h"
#include "saferoom/verbs.h"
int sr_verb_user(struct sr_verb_ctx *ctx, int argc, char **argv) { return sr_verb_error(ctx, SR_VERB_FAIL, "user: not built yet"); }
