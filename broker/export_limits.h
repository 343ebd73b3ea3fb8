/*
 * export_limits.h — the export checks' thresholds as saferoom.conf sets them
 * (export_max_size, export_max_rows, export_min_cell, export_zero_disclosive,
 * export_approvals, export_file_types).
 */
#ifndef SAFEROOM_BROKER_EXPORT_LIMITS_H
#define SAFEROOM_BROKER_EXPORT_LIMITS_H

#include "saferoom/config.h"
#include "saferoom/export.h"

/* L borrows cfg's strings: it lives no longer than cfg. */
void sr_export_limits_for(const struct sr_config *cfg, struct sr_export_limits *l);

#endif
