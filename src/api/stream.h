/* One SSE stream's state (h_stream.c). */
#ifndef CIIS_API_STREAM_H
#define CIIS_API_STREAM_H

#include <stdint.h>

#include "api/req.h"
#include "core/buf.h"
#include "core/heatmap.h"
#include "core/sse.h"

struct api_stream {
	struct api_req *req;		/* borrowed */
	enum api_stream_kind kind;
	char id[64];			/* its row in sse_streams */
	int registered;
	int64_t pos;			/* the last event id handled */
	int64_t exp_mono;		/* the token's exp, on the monotonic clock */
	int64_t next_beat;		/* heartbeat due (monotonic ms) */
	int64_t last_write;		/* monotonic ms */
	struct ciis_buf out;		/* messages not yet written */
	struct ciis_sse_filter filter;	/* issues stream */
	struct ciis_heatmap_filter heatmap;	/* heatmap stream */
	long interval;			/* heatmap: periodic update, ms */
	int64_t last_update, next_periodic, next_coalesced;	/* heatmap, monotonic; 0 = none */
};

/* Is the process shutting down (streams end)?  main.c. */
int api_stopping(void);

#endif
