/* One request's transport: FastCGI (libfcgi) or plain CGI (environment,
 * stdin, stdout).  Handlers see only this interface. */
#ifndef CIIS_API_IO_H
#define CIIS_API_IO_H

#include <stddef.h>

struct FCGX_Request;
struct api_stream;

struct api_io {
	const char *(*param)(struct api_io *io, const char *name);	/* CGI variable or NULL */
	long (*read)(struct api_io *io, char *buf, size_t n);		/* bytes, 0 at end, -1 */
	int (*write)(struct api_io *io, const void *buf, size_t n);	/* 0 or -1 */
	int (*flush)(struct api_io *io);				/* 0 or -1 */
	int (*gone)(struct api_io *io);	/* 1 when the peer closed the connection */
	struct FCGX_Request *fcgx;	/* borrowed; NULL under CGI */
	/* Owned: an open SSE stream the handler left for the writer thread,
	 * to be handed over once the request is done with (main.c). */
	struct api_stream *held;
};

/* Fill io for a FastCGI request (req is borrowed) or for this process's CGI
 * request. */
void api_io_fcgi(struct api_io *io, struct FCGX_Request *req);
void api_io_cgi(struct api_io *io);

#endif
