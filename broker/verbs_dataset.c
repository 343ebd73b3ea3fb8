/* verbs_dataset.c — being written. */
#include "config.h"
#include "saferoom/verbs.h"
int sr_verb_dataset(struct sr_verb_ctx *ctx, int argc, char **argv) { return sr_verb_error(ctx, SR_VERB_FAIL, "dataset: not built yet"); }
