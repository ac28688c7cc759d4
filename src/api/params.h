/* Query parameters that are comma lists: "campusId=1,2", "status=open,assigned". */
#ifndef CIIS_API_PARAMS_H
#define CIIS_API_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "api/req.h"

/* Split parameter name (absent: *n = 0) into at most max ids; 400 naming it
 * for an empty element, a non-id or too many values. */
int api_query_ids(struct api_req *req, const char *name, int64_t *out, size_t max,
    size_t *n, struct ciis_err *err);
/* The same for words accepted by valid(); the words are lent from req. */
int api_query_words(struct api_req *req, const char *name, int (*valid)(const char *),
    const char **out, size_t max, size_t *n, struct ciis_err *err);
/* The same for enum names parsed by parse() (-1 = invalid). */
int api_query_enums(struct api_req *req, const char *name, int (*parse)(const char *),
    int *out, size_t max, size_t *n, struct ciis_err *err);

#endif
