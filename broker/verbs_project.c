/* verbs_project.c — being written. */
#include "config.h"
#include "saferoom/verbs.h"
int sr_verb_project(struct sr_verb_ctx *ctx, int argc, char **argv) { return sr_verb_error(ctx, SR_VERB_FAIL, "project: not built yet"); }
