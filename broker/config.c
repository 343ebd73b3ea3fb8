/* config.c — being written. */
#include "config.h"
#include "saferoom/config.h"
