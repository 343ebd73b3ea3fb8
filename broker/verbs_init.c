#include "config.h"
#include "saferoom/verbs.h"
int sr_verb_init(struct sr_verb_ctx *ctx, int argc, char **argv) { return 1; }
