/*
 * export_limits.c — the export checks' thresholds from saferoom.conf.  The
 * configuration was checked against the export module when it was read
 * (config.c), so nothing here can fail.
 */
#include "config.h"

#include "export_limits.h"

void
sr_export_limits_for(const struct sr_config *cfg, struct sr_export_limits *l)
{
	sr_export_limits_init(l);
	l->max_size = cfg->export_max_size;
	l->max_rows = cfg->export_max_rows;
	l->min_cell = cfg->export_min_cell;
	l->zero_disclosive = cfg->export_zero_disclosive;
	l->approvals = cfg->export_approvals;
	l->file_types = cfg->export_file_types;
}
