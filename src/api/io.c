/* FastCGI and CGI behind one interface.  Output goes through FCGX_PutStr,
 * never FCGX_FPrintF, whose own formatter mishandles %zu. */
#include "api/io.h"

#include <fcgiapp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
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

/* The web server closes its FastCGI connection when the client leaves; a
 * stream writing its replay on the request thread sees that here without
 * having to write (the writer thread watches held streams with epoll). */
static int
fcgi_gone(struct api_io *io)
{
	struct pollfd p = { .fd = io->fcgx->ipcFd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
		return 1;
	return (p.revents & POLLIN) && recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

void
api_io_fcgi(struct api_io *io, struct FCGX_Request *req)
{
	io->param = fcgi_param;
	io->read = fcgi_read;
	io->write = fcgi_write;
	io->flush = fcgi_flush;
	io->gone = fcgi_gone;
	io->fcgx = req;
	io->held = NULL;
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

static int
cgi_gone(struct api_io *io)
{
	return 0;	/* a CGI program learns it only by writing */
}

void
api_io_cgi(struct api_io *io)
{
	io->param = cgi_param;
	io->read = cgi_read;
	io->write = cgi_write;
	io->flush = cgi_flush;
	io->gone = cgi_gone;
	io->fcgx = NULL;
	io->held = NULL;
}
