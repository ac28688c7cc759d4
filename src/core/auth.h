/* Who is calling: JWT verification with libjwt (SPEC §3) and roles.
 *
 * libjwt 1.10 verifies nothing with a NULL key, accepts an HS256 token
 * HMAC'd with an RSA public key, and never looks at exp.  So the algorithm is
 * pinned to the configured one and every time claim is checked here. */
#ifndef CIIS_CORE_AUTH_H
#define CIIS_CORE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

enum ciis_role {
	CIIS_ROLE_NONE = 0,
	CIIS_ROLE_VIEWER,
	CIIS_ROLE_REPORTER,
	CIIS_ROLE_STAFF,
	CIIS_ROLE_ADMIN,
};

#define CIIS_ID_MAX 64		/* user and organization ids: 1..64 bytes */

struct ciis_principal {
	char user_id[CIIS_ID_MAX + 1];
	char org_id[CIIS_ID_MAX + 1];
	char name[129];		/* display name, "" when absent */
	enum ciis_role role;
	int64_t exp;		/* seconds since the epoch */
};

/* "viewer" … "admin" → role; CIIS_ROLE_NONE when unknown. */
enum ciis_role ciis_role_parse(const char *s);
const char *ciis_role_name(enum ciis_role r);

struct ciis_keys;

/* Read the algorithm, secret or key files, issuer and audience of c.  With
 * for_signing, the private key (RS/ES) is loaded too.  NULL with a message in
 * errbuf when a key is missing or unreadable. */
struct ciis_keys *ciis_keys_load(const struct ciis_conf *c, int for_signing,
    char *errbuf, size_t errlen);
void ciis_keys_free(struct ciis_keys *k);	/* k may be NULL */

/*
 * Verify `token` at time now (seconds) and fill p.  Every failure of SPEC §3
 * is CIIS_E_UNAUTHORIZED: not three parts, alg none or not the configured
 * one, bad signature, exp missing or not after now, nbf after now, iss/aud
 * different from a configured one, userId (or sub), organizationId or role
 * missing, too long or unknown.
 */
int ciis_jwt_verify(const struct ciis_keys *k, const char *token, int64_t now,
    struct ciis_principal *p, struct ciis_err *err);

/* Mint a token for p valid from now for ttl seconds (iss/aud when
 * configured).  Returns a string the caller frees, or NULL with err set. */
char *ciis_jwt_mint(const struct ciis_keys *k, const struct ciis_principal *p,
    int64_t now, int64_t ttl, struct ciis_err *err);

/* The bearer token of an Authorization header value, lent from it; NULL
 * when the header is not "Bearer <token>".  The lent string may keep the
 * header's trailing blanks, which ciis_jwt_verify() ignores. */
const char *ciis_auth_bearer(const char *header);

#endif
