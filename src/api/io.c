/* FastCGI and CGI behind one interface.  Output goes through FCGX_PutStr,
 * never FCGX_FPrintF, whose own formatter mishandles %zu. */
#include "api/io.h"

#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *
fcgi_param(struct api_io *io, const char *name)
{
	return FCGX_GetParam(name, io->fcgx->envp);
}

static long
fcgi_read(struct api_io *io, char *buf, size_t n)
{
	int got = FCGX_GetStr(buf, (int)n, io->fcgx->in);

	return got < 0 ? -1 : got;
}

static int
fcgi_write(struct api_io *io, const void *buf, size_t n)
{
	return FCGX_PutStr(buf, (int)n, io->fcgx->out) == (int)n ? 0 : -1;
}

static int
fcgi_flush(struct api_io *io)
{
	return FCGX_FFlush(io->fcgx->out) == 0 && !FCGX_GetError(io->fcgx->out) ? 0 : -1;
}

void
api_io_fcgi(struct api_io *io, struct FCGX_Request *req)
{
	io->param = fcgi_param;
	io->read = fcgi_read;
	io->write = fcgi_write;
	io->flush = fcgi_flush;
	io->fcgx = req;
}

static const char *
cgi_param(struct api_io *io, const char *name)
{
	return getenv(name);
}

static long
cgi_read(struct api_io *io, char *buf, size_t n)
{
	size_t got = fread(buf, 1, n, stdin);

	return ferror(stdin) ? -1 : (long)got;
}

static int
cgi_write(struct api_io *io, const void *buf, size_t n)
{
	return fwrite(buf, 1, n, stdout) == n ? 0 : -1;
}

static int
cgi_flush(struct api_io *io)
{
	return fflush(stdout) == 0 ? 0 : -1;
}

void
api_io_cgi(struct api_io *io)
{
	io->param = cgi_param;
	io->read = cgi_read;
	io->write = cgi_write;
	io->flush = cgi_flush;
	io->fcgx = NULL;
}
