/* The route table and dispatch of one request. */
#ifndef CIIS_API_ROUTER_H
#define CIIS_API_ROUTER_H

#include "api/req.h"

/* Answer req: route, authenticate, read the body, run the handler, send any
 * error, log one line. */
void api_dispatch(struct api_req *req);

#endif
