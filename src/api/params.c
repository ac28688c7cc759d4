/* Comma-list query parameters, split in place in the request's own copy. */
#include "api/params.h"

#include <string.h>

#include "core/issue.h"

/* Split req's value of name into words; *n = 0 when absent. */
static int
split(struct api_req *req, const char *name, char **words, size_t max, size_t *n,
    struct ciis_err *err)
{
	char *v = (char *)api_req_query(req, name), *p;

	*n = 0;
	if (v == NULL)
		return 0;
	for (p = v;; p++) {
		char *start = p;

		p += strcspn(p, ",");
		if (p == start)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: empty value in the list", name);
		if (*n >= max)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: at most %zu values", name, max);
		words[(*n)++] = start;
		if (*p == '\0')
			return 0;
		*p = '\0';
	}
}

int
api_query_ids(struct api_req *req, const char *name, int64_t *out, size_t max,
    size_t *n, struct ciis_err *err)
{
	char *words[64];

	if (split(req, name, words, max < 64 ? max : 64, n, err) != 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (ciis_id_parse(words[i], &out[i]) != 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: every value must be an id", name);
	return 0;
}

int
api_query_words(struct api_req *req, const char *name, int (*valid)(const char *),
    const char **out, size_t max, size_t *n, struct ciis_err *err)
{
	char *words[64];

	if (split(req, name, words, max < 64 ? max : 64, n, err) != 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		if (!valid(words[i]))
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: value %zu of the list is not valid",
			    name, i + 1);
		out[i] = words[i];
	}
	return 0;
}

int
api_query_enums(struct api_req *req, const char *name, int (*parse)(const char *),
    int *out, size_t max, size_t *n, struct ciis_err *err)
{
	char *words[64];

	if (split(req, name, words, max < 64 ? max : 64, n, err) != 0)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if ((out[i] = parse(words[i])) < 0)
			return CIIS_ERR(err, CIIS_E_BAD_REQUEST, name, "%s: value %zu of the list is not valid",
			    name, i + 1);
	return 0;
}
