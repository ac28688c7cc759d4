/* The writer thread: one epoll loop holds every open SSE stream of the
 * process once its request thread has opened it, so that a held stream
 * costs its state and its connection, not a thread and libfcgi's buffers.
 * It writes the FastCGI records itself, takes the tailer's events from the
 * ring when the tailer publishes, runs the streams' timers, notices a web
 * server that closed the connection, and ends the response.  It never
 * touches the database: replays and heatmap snapshots go to a few worker
 * threads (workers.h) and come back to it. */
#ifndef CIIS_API_WRITER_H
#define CIIS_API_WRITER_H

#include <stdint.h>

#include "api/req.h"
#include "api/stream.h"

struct api_writer;

/* Start the writer and its database workers for ctx (borrowed; its tail must
 * be running).  NULL when a thread cannot start. */
struct api_writer *api_writer_start(struct api_ctx *ctx);
/* Take s (owned from now on, whatever happens) with its FastCGI connection
 * fd and request_id: the headers and whatever s->msg does not hold are
 * written already, libfcgi is done with the connection.  Any thread. */
void api_writer_adopt(struct api_writer *w, struct api_stream *s, int fd, int request_id);
/* The tailer's publish hook (ciis_tail_publish_fn): wake the writer. */
void api_writer_published(void *w, int64_t first_id, int64_t last_id);
/* End every stream (and any adopted later) and return at once. */
void api_writer_shutdown(struct api_writer *w);
/* Shut down, wait for the streams' end records to be written (a few seconds
 * at most), stop the threads and free the streams.  Adopting afterwards
 * still ends the stream properly, on the adopting thread; a late
 * api_writer_published() is harmless. */
void api_writer_stop(struct api_writer *w);
/* Free w (NULL ok) once nothing can call into it any more: no adopting
 * thread, and the tailer stopped, since ciis_tail_on_publish(NULL) does not
 * wait for a hook call already under way. */
void api_writer_free(struct api_writer *w);

#endif
