/* The heatmap snapshot of SPEC §5: per building of the filter, its open
 * issues (status not resolved or closed), weight (low 1 … critical 4) and
 * counts by priority and category, read on one consistent snapshot together
 * with the last event id it includes. */
#ifndef CIIS_CORE_HEATMAP_H
#define CIIS_CORE_HEATMAP_H

#include <json-c/json.h>

#include "core/db.h"
#include "core/issue_store.h"

struct ciis_heatmap_filter {
	int64_t campus;				/* 0: every campus */
	int64_t building[CIIS_FILTER_MAX];
	size_t nbuilding;
	const char *category[CIIS_FILTER_MAX];	/* lent */
	size_t ncategory;
};

/* *out: a new heatmap object for organization org. */
int ciis_heatmap_snapshot(struct ciis_db *db, const char *org,
    const struct ciis_heatmap_filter *f, struct json_object **out, struct ciis_err *err);

#endif
