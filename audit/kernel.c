/* kernel.c — being written. */
#include "config.h"
#include "saferoom/audit.h"
