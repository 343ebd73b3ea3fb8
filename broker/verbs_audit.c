#include "config.h"
#include "saferoom/verbs.h"
int sr_verb_audit(struct sr_verb_ctx *ctx, int argc, char **argv) { return 1; }
