/* JWT verification and minting on libjwt 1.10 (SPEC §3, DEPLOY-NOTES §3).
 *
 * libjwt checks the signature only: with the configured key (never NULL) and
 * nothing else.  Everything it leaves open is closed here: the algorithm is
 * pinned to the configured one (so an HS256 token HMAC'd with our RSA public
 * PEM is refused), and exp, nbf, iss, aud and the claims are checked on a
 * json-c copy of the payload, because jwt_get_grant_int() answers 0 with
 * errno 0 for a claim of the wrong type.  No message names the token or key. */
#include "core/auth.h"

#include <errno.h>
#include <jwt.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"

#define TOKEN_MAX 8192			/* longer tokens are refused before parsing */
#define KEY_FILE_MAX (64 * 1024)	/* a PEM key is a few KiB */
#define NAME_MAX_BYTES (sizeof ((struct ciis_principal *)0)->name - 1)

struct ciis_keys {
	jwt_alg_t alg;
	unsigned char *verify;	/* HS256 secret or PEM public key; owned */
	size_t verify_len;
	unsigned char *sign;	/* secret or PEM private key; NULL unless for_signing */
	size_t sign_len;
	char *issuer;		/* owned; NULL when not configured */
	char *audience;		/* owned; NULL when not configured */
};

static const struct {
	const char *name;
	jwt_alg_t alg;
	int pkey_type;		/* 0: a shared secret */
	int bits;		/* minimum key size (EC: exact curve size) */
} algs[] = {
	{ "HS256", JWT_ALG_HS256, 0, 0 },
	{ "RS256", JWT_ALG_RS256, EVP_PKEY_RSA, 2048 },
	{ "ES256", JWT_ALG_ES256, EVP_PKEY_EC, 256 },
};

static const char *const role_names[] = {
	[CIIS_ROLE_NONE] = "none",
	[CIIS_ROLE_VIEWER] = "viewer",
	[CIIS_ROLE_REPORTER] = "reporter",
	[CIIS_ROLE_STAFF] = "staff",
	[CIIS_ROLE_ADMIN] = "admin",
};

enum ciis_role
ciis_role_parse(const char *s)
{
	for (size_t i = CIIS_ROLE_VIEWER; s != NULL && i < sizeof role_names / sizeof role_names[0]; i++)
		if (strcmp(s, role_names[i]) == 0)
			return (enum ciis_role)i;
	return CIIS_ROLE_NONE;
}

const char *
ciis_role_name(enum ciis_role r)
{
	if ((unsigned)r >= sizeof role_names / sizeof role_names[0])
		return role_names[CIIS_ROLE_NONE];
	return role_names[r];
}


/* ---- keys ---- */

static unsigned char *
read_key_file(const char *key, const char *path, size_t *len, char *errbuf, size_t errlen)
{
	FILE *f;
	unsigned char *buf;
	size_t n;

	if (path == NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s: not set", key);
		return NULL;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		ciis_errbuf_printf(errbuf, errlen, "%s: cannot open %s: %s", key, path, strerror(errno));
		return NULL;
	}
	buf = ciis_xmalloc(KEY_FILE_MAX + 1);
	n = fread(buf, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f) || n == 0 || n > KEY_FILE_MAX) {
		ciis_errbuf_printf(errbuf, errlen, "%s: %s: %s", key, path, ferror(f) ? "read error"
		    : n == 0 ? "empty" : "larger than 64 KiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* OpenSSL would prompt on the terminal for an encrypted key's passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Parse the PEM now so a wrong file fails at start, not as 401s later. */
static int
check_pem(const unsigned char *pem, size_t len, int private, size_t a, const char *key,
    char *errbuf, size_t errlen)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = NULL;
	int ok = 0;

	if (bio != NULL)
		pk = private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
		    : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (pk == NULL)
		ciis_errbuf_printf(errbuf, errlen, "%s: not an unencrypted PEM %s key", key,
		    private ? "private" : "public");
	else if (EVP_PKEY_base_id(pk) != algs[a].pkey_type ||
	    (algs[a].pkey_type == EVP_PKEY_EC ? EVP_PKEY_bits(pk) != algs[a].bits
	    : EVP_PKEY_bits(pk) < algs[a].bits))
		ciis_errbuf_printf(errbuf, errlen, "%s: not a%s key for %s", key,
		    algs[a].pkey_type == EVP_PKEY_EC ? " P-256" : "n RSA (2048 bits or more)",
		    algs[a].name);
	else
		ok = 1;
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();	/* leave no stale error for libjwt's next call */
	return ok ? 0 : -1;
}

static int
load_pem(const char *key, const char *path, int private, size_t a, unsigned char **out,
    size_t *len, char *errbuf, size_t errlen)
{
	if ((*out = read_key_file(key, path, len, errbuf, errlen)) == NULL)
		return -1;
	return check_pem(*out, *len, private, a, key, errbuf, errlen);
}

static int
alg_index(const char *name, size_t *a)
{
	for (*a = 0; name != NULL && *a < sizeof algs / sizeof algs[0]; (*a)++)
		if (strcmp(algs[*a].name, name) == 0)
			return 0;
	return -1;
}

static int
load_secret(struct ciis_keys *k, const struct ciis_conf *c, int for_signing,
    char *errbuf, size_t errlen)
{
	if (c->jwt_secret == NULL || *c->jwt_secret == '\0') {
		ciis_errbuf_printf(errbuf, errlen, "jwt.secret: not set (needed by HS256)");
		return -1;
	}
	k->verify_len = strlen(c->jwt_secret);
	k->verify = (unsigned char *)ciis_xstrdup(c->jwt_secret);
	if (for_signing) {
		k->sign_len = k->verify_len;
		k->sign = (unsigned char *)ciis_xstrdup(c->jwt_secret);
	}
	return 0;
}

static int
load_pems(struct ciis_keys *k, const struct ciis_conf *c, int for_signing, size_t a,
    char *errbuf, size_t errlen)
{
	if (load_pem("jwt.public_key_file", c->jwt_public_key_file, 0, a, &k->verify,
	    &k->verify_len, errbuf, errlen) != 0)
		return -1;
	if (for_signing && load_pem("jwt.private_key_file", c->jwt_private_key_file, 1, a,
	    &k->sign, &k->sign_len, errbuf, errlen) != 0)
		return -1;
	return 0;
}

struct ciis_keys *
ciis_keys_load(const struct ciis_conf *c, int for_signing, char *errbuf, size_t errlen)
{
	struct ciis_keys *k = ciis_xcalloc(1, sizeof *k);
	size_t a;
	int rc;

	if (alg_index(c->jwt_algorithm, &a) != 0) {
		ciis_errbuf_printf(errbuf, errlen, "jwt.algorithm: expected HS256|RS256|ES256");
		rc = -1;
	} else if (algs[a].pkey_type == 0) {
		rc = load_secret(k, c, for_signing, errbuf, errlen);
	} else {
		rc = load_pems(k, c, for_signing, a, errbuf, errlen);
	}
	if (rc != 0) {
		ciis_keys_free(k);
		return NULL;
	}
	k->alg = algs[a].alg;
	k->issuer = c->jwt_issuer ? ciis_xstrdup(c->jwt_issuer) : NULL;
	k->audience = c->jwt_audience ? ciis_xstrdup(c->jwt_audience) : NULL;
	return k;
}

static void
scrub_free(unsigned char *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
	free(p);
}

void
ciis_keys_free(struct ciis_keys *k)
{
	if (k == NULL)
		return;
	scrub_free(k->verify, k->verify_len);
	scrub_free(k->sign, k->sign_len);
	free(k->issuer);
	free(k->audience);
	free(k);
}

/* ---- claims ---- */

/* A user id: 1..64 bytes, no control characters (ids reach logs and rooms). */
static int
valid_user_id(const char *s, size_t n)
{
	if (n == 0 || n > CIIS_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* An organization id: 1..64 of [A-Za-z0-9_-], as ciis-admin add-org takes. */
static int
valid_org_id(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n >= 1 && n <= CIIS_ID_MAX && s[n] == '\0';
}

/* An integer claim: 1 and *v when present, 0 when absent, -1 when not an integer. */
static int
int_claim(struct json_object *claims, const char *name, int64_t *v)
{
	struct json_object *o;

	if (!json_object_object_get_ex(claims, name, &o))
		return 0;
	if (!json_object_is_type(o, json_type_int))
		return -1;
	*v = json_object_get_int64(o);
	return 1;
}

/* A string claim, lent from claims; NULL when absent or not a string. */
static const char *
str_claim(struct json_object *claims, const char *name)
{
	struct json_object *o;

	if (!json_object_object_get_ex(claims, name, &o) || !json_object_is_type(o, json_type_string))
		return NULL;
	return json_object_get_string(o);
}

static int
unauthorized(struct ciis_err *err, const char *field, const char *msg)
{
	return CIIS_ERR(err, CIIS_E_UNAUTHORIZED, field, "%s", msg);
}

static int
check_times(struct json_object *claims, int64_t now, struct ciis_principal *p,
    struct ciis_err *err)
{
	int64_t exp = 0, nbf = 0;
	int r;

	if ((r = int_claim(claims, "exp", &exp)) == 0)
		return unauthorized(err, "exp", "token has no expiry (exp)");
	if (r < 0)
		return unauthorized(err, "exp", "token expiry (exp) is not an integer");
	if (exp <= now)
		return unauthorized(err, "exp", "token expired");
	if ((r = int_claim(claims, "nbf", &nbf)) < 0)
		return unauthorized(err, "nbf", "token nbf is not an integer");
	if (r > 0 && nbf > now)
		return unauthorized(err, "nbf", "token not yet valid (nbf)");
	p->exp = exp;
	return 0;
}

/* aud may be one string or an array of strings (RFC 7519 §4.1.3). */
static int
audience_has(struct json_object *aud, const char *want)
{
	struct json_object *e;

	if (json_object_is_type(aud, json_type_string))
		return strcmp(json_object_get_string(aud), want) == 0;
	if (!json_object_is_type(aud, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(aud); i++) {
		e = json_object_array_get_idx(aud, i);
		if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), want) == 0)
			return 1;
	}
	return 0;
}

static int
check_iss_aud(const struct ciis_keys *k, struct json_object *claims, struct ciis_err *err)
{
	const char *iss = str_claim(claims, "iss");
	struct json_object *aud;

	if (k->issuer != NULL && (iss == NULL || strcmp(iss, k->issuer) != 0))
		return unauthorized(err, "iss", "token issuer (iss) not accepted");
	if (k->audience != NULL && (!json_object_object_get_ex(claims, "aud", &aud) ||
	    !audience_has(aud, k->audience)))
		return unauthorized(err, "aud", "token audience (aud) not accepted");
	return 0;
}

/* userId or sub: a string, or an integer in decimal.  1 found, 0 absent, -1 bad. */
static int
user_claim(struct json_object *claims, const char *name, char out[CIIS_ID_MAX + 1])
{
	struct json_object *o;
	const char *s;

	if (!json_object_object_get_ex(claims, name, &o))
		return 0;
	if (json_object_is_type(o, json_type_int)) {
		snprintf(out, CIIS_ID_MAX + 1, "%lld", (long long)json_object_get_int64(o));
		return 1;
	}
	if (!json_object_is_type(o, json_type_string))
		return -1;
	s = json_object_get_string(o);
	if (!valid_user_id(s, strlen(s)))
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 1;
}

/* Copy at most n bytes of s, cutting before a UTF-8 continuation byte. */
static void
copy_truncated(char *out, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (len > n) {
		len = n;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, s, len);
	out[len] = '\0';
}

static int
check_principal(struct json_object *claims, struct ciis_principal *p, struct ciis_err *err)
{
	const char *field = "userId", *org, *name;
	int r;

	if ((r = user_claim(claims, field, p->user_id)) == 0)
		r = user_claim(claims, field = "sub", p->user_id);
	if (r == 0)
		return unauthorized(err, "userId", "token has no userId");
	if (r < 0)
		return unauthorized(err, field, "token user id is not 1..64 bytes");
	org = str_claim(claims, "organizationId");
	if (org == NULL || !valid_org_id(org))
		return unauthorized(err, "organizationId", "token organizationId missing or invalid");
	memcpy(p->org_id, org, strlen(org) + 1);
	if ((p->role = ciis_role_parse(str_claim(claims, "role"))) == CIIS_ROLE_NONE)
		return unauthorized(err, "role", "token role missing or unknown");
	if ((name = str_claim(claims, "name")) != NULL)
		copy_truncated(p->name, NAME_MAX_BYTES, name);
	return 0;
}

/* Length and alphabet before libjwt sees it: three base64url parts, a signature. */
static int
check_shape(const char *token, char buf[TOKEN_MAX + 1], struct ciis_err *err)
{
	size_t n, dots = 0;
	const char *last;

	if (token == NULL || *token == '\0')
		return unauthorized(err, "token", "missing token");
	if ((n = strnlen(token, TOKEN_MAX + 1)) > TOKEN_MAX)
		return unauthorized(err, "token", "token too long");
	while (n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\t'))
		n--;		/* ciis_auth_bearer lends a pointer that may keep them */
	for (size_t i = 0; i < n; i++) {
		if (token[i] == '.')
			dots++;
		else if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
		    token[i]) == NULL)
			return unauthorized(err, "token", "malformed token");
	}
	memcpy(buf, token, n);
	buf[n] = '\0';
	last = strrchr(buf, '.');
	if (dots != 2 || buf[0] == '.' || strstr(buf, "..") != NULL)
		return unauthorized(err, "token", "malformed token");
	if (last[1] == '\0')
		return unauthorized(err, "alg", "unsigned token (alg none) not accepted");
	return 0;
}

/* The payload as json-c, a new reference; NULL when it is not an object. */
static struct json_object *
claims_of(jwt_t *j)
{
	char *text = jwt_get_grants_json(j, NULL);
	struct json_object *o = text ? json_tokener_parse(text) : NULL;

	free(text);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

int
ciis_jwt_verify(const struct ciis_keys *k, const char *token, int64_t now,
    struct ciis_principal *p, struct ciis_err *err)
{
	char buf[TOKEN_MAX + 1];
	struct json_object *claims = NULL;
	jwt_t *j = NULL;
	int rc = -1;

	memset(p, 0, sizeof *p);
	if (check_shape(token, buf, err) != 0)
		return -1;
	/* the key is never NULL: libjwt would skip the signature */
	if (jwt_decode(&j, buf, k->verify, (int)k->verify_len) != 0) {
		j = NULL;
		unauthorized(err, "token", "bad token signature or encoding");
	} else if (jwt_get_alg(j) != k->alg) {
		unauthorized(err, "alg", "token algorithm not accepted");
	} else if ((claims = claims_of(j)) == NULL) {
		unauthorized(err, "token", "malformed token claims");
	} else if (check_times(claims, now, p, err) == 0 && check_iss_aud(k, claims, err) == 0 &&
	    check_principal(claims, p, err) == 0) {
		rc = 0;
	}
	json_object_put(claims);
	jwt_free(j);
	ERR_clear_error();
	if (rc != 0)
		memset(p, 0, sizeof *p);	/* a failed verify leaves no half-principal */
	return rc;
}

/* ---- minting ---- */

static int
mint_check(const struct ciis_keys *k, const struct ciis_principal *p, int64_t now,
    int64_t ttl, struct ciis_err *err)
{
	if (k->sign == NULL)
		return CIIS_ERR(err, CIIS_E_INTERNAL, "jwt.private_key_file",
		    "keys were loaded without the signing key");
	if (!valid_user_id(p->user_id, strnlen(p->user_id, sizeof p->user_id)))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "userId", "user id must be 1..64 bytes");
	if (strnlen(p->org_id, sizeof p->org_id) > CIIS_ID_MAX || !valid_org_id(p->org_id))
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "organizationId",
		    "organization id must be 1..64 of [A-Za-z0-9_-]");
	if (p->role == CIIS_ROLE_NONE || ciis_role_parse(ciis_role_name(p->role)) != p->role)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "role", "unknown role");
	if (ttl <= 0 || now < 0 || ttl > INT64_MAX - now)
		return CIIS_ERR(err, CIIS_E_BAD_REQUEST, "ttl", "ttl must be a positive number of seconds");
	return 0;
}

static int
mint_grants(jwt_t *j, const struct ciis_keys *k, const struct ciis_principal *p,
    int64_t now, int64_t ttl)
{
	int bad = 0;

	bad |= jwt_add_grant(j, "userId", p->user_id);
	bad |= jwt_add_grant(j, "sub", p->user_id);
	bad |= jwt_add_grant(j, "organizationId", p->org_id);
	bad |= jwt_add_grant(j, "role", ciis_role_name(p->role));
	if (p->name[0] != '\0')
		bad |= jwt_add_grant(j, "name", p->name);
	bad |= jwt_add_grant_int(j, "iat", (long)now);
	bad |= jwt_add_grant_int(j, "exp", (long)(now + ttl));
	if (k->issuer != NULL)
		bad |= jwt_add_grant(j, "iss", k->issuer);
	if (k->audience != NULL)
		bad |= jwt_add_grant(j, "aud", k->audience);
	return bad ? -1 : 0;
}

char *
ciis_jwt_mint(const struct ciis_keys *k, const struct ciis_principal *p,
    int64_t now, int64_t ttl, struct ciis_err *err)
{
	jwt_t *j = NULL;
	char *token = NULL;

	if (mint_check(k, p, now, ttl, err) != 0)
		return NULL;
	if (jwt_new(&j) != 0 || mint_grants(j, k, p, now, ttl) != 0 ||
	    jwt_set_alg(j, k->alg, k->sign, (int)k->sign_len) != 0 ||
	    (token = jwt_encode_str(j)) == NULL)
		CIIS_ERR(err, CIIS_E_INTERNAL, "", "cannot sign the token");
	jwt_free(j);
	ERR_clear_error();
	return token;
}

/* ---- transport ---- */

const char *
ciis_auth_bearer(const char *header)
{
	size_t n;

	if (header == NULL)
		return NULL;
	header += strspn(header, " \t");
	if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
		return NULL;
	header += 6;
	header += strspn(header, " \t");
	n = strcspn(header, " \t");
	if (n == 0 || header[n + strspn(header + n, " \t")] != '\0')
		return NULL;	/* empty, or two words */
	return header;
}
