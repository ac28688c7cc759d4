/* FastCGI records without libfcgi, for the streams the writer thread holds
 * (writer.c): encoding the response (FCGI_STDOUT, FCGI_END_REQUEST) and
 * reading what the web server still sends on the connection, which matters
 * only for FCGI_ABORT_REQUEST.  Pure: no I/O, driven by the unit tests. */
#ifndef CIIS_API_FCGI_REC_H
#define CIIS_API_FCGI_REC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define API_FCGI_HEADER_LEN 8
/* Content bytes per FCGI_STDOUT record: the 16-bit length, kept a multiple
 * of 8 so that only a message's last record is padded. */
#define API_FCGI_MAX_CONTENT 65528

/* Append p[0..n) as FCGI_STDOUT records of request_id (each content padded
 * to a multiple of 8); n == 0 appends nothing.  Never fails. */
void api_fcgi_stdout(struct ciis_buf *out, int request_id, const void *p, size_t n);
/* Append what ends the response: the empty FCGI_STDOUT record (end of the
 * stream) and FCGI_END_REQUEST with app_status and FCGI_REQUEST_COMPLETE. */
void api_fcgi_end(struct ciis_buf *out, int request_id, uint32_t app_status);

/* Where a reader stands in the records the web server sends. */
struct api_fcgi_reader {
	unsigned char head[API_FCGI_HEADER_LEN];
	size_t nhead;		/* bytes of head read so far */
	size_t skip;		/* content + padding still to pass over */
};

enum api_fcgi_feed {
	API_FCGI_MORE,		/* nothing that ends the request */
	API_FCGI_ABORTED,	/* FCGI_ABORT_REQUEST for request_id */
	API_FCGI_GARBLED,	/* not FastCGI version 1 */
};

/* Take p[0..n) of the connection; records other than an abort of
 * request_id (the rest of FCGI_STDIN, management records) are skipped. */
enum api_fcgi_feed api_fcgi_feed(struct api_fcgi_reader *r, int request_id,
    const unsigned char *p, size_t n);

#endif
