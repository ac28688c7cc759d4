/* JWT: what libjwt 1.10 lets through is refused here (DEPLOY-NOTES §3):
 * alg none, algorithm confusion, missing or past exp, future nbf, iss/aud,
 * missing or bad claims, garbage; and mint → verify round trips.
 * Tokens are signed in the test with libjwt itself, from claims given as JSON,
 * so each case states exactly what the token carries. */
#include <jwt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"
#include "core/xalloc.h"
#include "suites.h"

#define NOW 1800000000L
#define SECRET "test-secret-0123456789-abcdefghijklmnop"
#define OTHER_SECRET "some-other-secret-0123456789-abcdefghij"
#define A16 "aaaaaaaaaaaaaaaa"
#define A64 A16 A16 A16 A16
#define BASE "\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":1800000600"

enum cfg { K_HS, K_RS, K_ES, K_HS_ISSAUD };
enum signer { S_HS, S_HS_WRONG, S_RS, S_RS_OTHER, S_ES, S_ES_OTHER, S_HS_RSAPUB, S_HS_ECPUB };

static const struct {
	jwt_alg_t alg;
	const char *file;	/* key file under tests/unit/data, or NULL */
	const char *secret;
} signers[] = {
	[S_HS] = { JWT_ALG_HS256, NULL, SECRET },
	[S_HS_WRONG] = { JWT_ALG_HS256, NULL, OTHER_SECRET },
	[S_RS] = { JWT_ALG_RS256, "rsa-private.pem", NULL },
	[S_RS_OTHER] = { JWT_ALG_RS256, "rsa-other-private.pem", NULL },
	[S_ES] = { JWT_ALG_ES256, "ec-private.pem", NULL },
	[S_ES_OTHER] = { JWT_ALG_ES256, "ec-other-private.pem", NULL },
	/* the algorithm-confusion attack: HMAC keyed with the server's public PEM */
	[S_HS_RSAPUB] = { JWT_ALG_HS256, "rsa-public.pem", NULL },
	[S_HS_ECPUB] = { JWT_ALG_HS256, "ec-public.pem", NULL },
};

static char *
data_file(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf = ciis_xmalloc(65536);

	snprintf(path, sizeof path, "%s/%s", CIIS_TEST_DATA, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* A token with exactly these claims (a JSON object's inside). */
static char *
sign(enum signer s, const char *claims)
{
	char json[2048];
	jwt_t *j = NULL;
	char *key, *token;
	size_t len;

	if (signers[s].file != NULL) {
		key = data_file(signers[s].file, &len);
	} else {
		key = ciis_xstrdup(signers[s].secret);
		len = strlen(key);
	}
	snprintf(json, sizeof json, "{%s}", claims);
	ck_assert_int_eq(jwt_new(&j), 0);
	ck_assert_msg(jwt_add_grants_json(j, json) == 0, "bad test claims %s", json);
	ck_assert_int_eq(jwt_set_alg(j, signers[s].alg, (unsigned char *)key, (int)len), 0);
	token = jwt_encode_str(j);
	ck_assert_ptr_nonnull(token);
	jwt_free(j);
	free(key);
	return token;
}

static struct ciis_keys *
keys_for(enum cfg which, int for_signing)
{
	struct ciis_conf c;
	struct ciis_keys *k;
	char err[512] = "";
	static const char *const algs[] = { "HS256", "RS256", "ES256", "HS256" };

	ciis_conf_defaults(&c);
	free(c.jwt_algorithm);
	c.jwt_algorithm = ciis_xstrdup(algs[which]);
	c.jwt_secret = ciis_xstrdup(SECRET);
	if (which == K_RS) {
		c.jwt_public_key_file = ciis_xstrdup(CIIS_TEST_DATA "/rsa-public.pem");
		c.jwt_private_key_file = ciis_xstrdup(CIIS_TEST_DATA "/rsa-private.pem");
	} else if (which == K_ES) {
		c.jwt_public_key_file = ciis_xstrdup(CIIS_TEST_DATA "/ec-public.pem");
		c.jwt_private_key_file = ciis_xstrdup(CIIS_TEST_DATA "/ec-private.pem");
	} else if (which == K_HS_ISSAUD) {
		c.jwt_issuer = ciis_xstrdup("https://issuer.example");
		c.jwt_audience = ciis_xstrdup("ciis");
	}
	k = ciis_keys_load(&c, for_signing, err, sizeof err);
	ck_assert_msg(k != NULL, "keys: %s", err);
	ciis_conf_cleanup(&c);
	return k;
}

/* ---- the table: one token, one configuration, one outcome ---- */

static const struct {
	const char *label;
	enum cfg cfg;
	enum signer signer;
	const char *claims;
	const char *field;	/* NULL: accepted */
	const char *user;	/* accepted: the user id */
} cases[] = {
	{ "hs256", K_HS, S_HS, "\"userId\":\"u1\"," BASE, NULL, "u1" },
	{ "rs256", K_RS, S_RS, "\"userId\":\"u1\"," BASE, NULL, "u1" },
	{ "es256", K_ES, S_ES, "\"userId\":\"u1\"," BASE, NULL, "u1" },
	{ "hs256 wrong secret", K_HS, S_HS_WRONG, "\"userId\":\"u1\"," BASE, "token", NULL },
	{ "rs256 other key", K_RS, S_RS_OTHER, "\"userId\":\"u1\"," BASE, "token", NULL },
	{ "es256 other key", K_ES, S_ES_OTHER, "\"userId\":\"u1\"," BASE, "token", NULL },
	{ "alg confusion rsa", K_RS, S_HS_RSAPUB, "\"userId\":\"u1\"," BASE, "alg", NULL },
	{ "alg confusion ec", K_ES, S_HS_ECPUB, "\"userId\":\"u1\"," BASE, "alg", NULL },
	{ "rs256 token, hs256 config", K_HS, S_RS, "\"userId\":\"u1\"," BASE, "token", NULL },
	{ "es256 token, rs256 config", K_RS, S_ES, "\"userId\":\"u1\"," BASE, "token", NULL },
	{ "rs256 token, es256 config", K_ES, S_RS, "\"userId\":\"u1\"," BASE, "token", NULL },
	/* exp: the trap libjwt leaves open */
	{ "expired", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":1799999999", "exp", NULL },
	{ "exp == now", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":1800000000", "exp", NULL },
	{ "no exp", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\"", "exp", NULL },
	{ "no exp rs256", K_RS, S_RS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\"", "exp", NULL },
	{ "exp string", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":\"1800000600\"", "exp", NULL },
	{ "exp real", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":1800000600.5", "exp", NULL },
	{ "exp null", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"staff\",\"exp\":null", "exp", NULL },
	/* nbf */
	{ "nbf future", K_HS, S_HS, "\"userId\":\"u1\",\"nbf\":1800000001," BASE, "nbf", NULL },
	{ "nbf == now", K_HS, S_HS, "\"userId\":\"u1\",\"nbf\":1800000000," BASE, NULL, "u1" },
	{ "nbf past", K_HS, S_HS, "\"userId\":\"u1\",\"nbf\":1700000000," BASE, NULL, "u1" },
	{ "nbf bool", K_HS, S_HS, "\"userId\":\"u1\",\"nbf\":true," BASE, "nbf", NULL },
	/* iss and aud: only when configured, then required */
	{ "iss/aud ignored when not configured", K_HS, S_HS, "\"userId\":\"u1\",\"iss\":\"x\",\"aud\":\"y\"," BASE, NULL, "u1" },
	{ "iss/aud match", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":\"ciis\"," BASE, NULL, "u1" },
	{ "aud array", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":[\"other\",\"ciis\"]," BASE, NULL, "u1" },
	{ "aud array without", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":[\"other\",\"ciis2\"]," BASE, "aud", NULL },
	{ "aud nested array", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":[[\"ciis\"]]," BASE, "aud", NULL },
	{ "aud wrong", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":\"ciis-dev\"," BASE, "aud", NULL },
	{ "aud missing", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\"," BASE, "aud", NULL },
	{ "aud number", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://issuer.example\",\"aud\":1," BASE, "aud", NULL },
	{ "iss wrong", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"iss\":\"https://evil.example\",\"aud\":\"ciis\"," BASE, "iss", NULL },
	{ "iss missing", K_HS_ISSAUD, S_HS, "\"userId\":\"u1\",\"aud\":\"ciis\"," BASE, "iss", NULL },
	/* the user */
	{ "sub fallback", K_HS, S_HS, "\"sub\":\"s9\"," BASE, NULL, "s9" },
	{ "userId beats sub", K_HS, S_HS, "\"userId\":\"u1\",\"sub\":\"s9\"," BASE, NULL, "u1" },
	{ "numeric userId", K_HS, S_HS, "\"userId\":42," BASE, NULL, "42" },
	{ "numeric sub", K_HS, S_HS, "\"sub\":7," BASE, NULL, "7" },
	{ "64-byte userId", K_HS, S_HS, "\"userId\":\"" A64 "\"," BASE, NULL, A64 },
	{ "no user", K_HS, S_HS, BASE, "userId", NULL },
	{ "empty userId", K_HS, S_HS, "\"userId\":\"\"," BASE, "userId", NULL },
	{ "65-byte userId", K_HS, S_HS, "\"userId\":\"" A64 "a\"," BASE, "userId", NULL },
	{ "bool userId", K_HS, S_HS, "\"userId\":true," BASE, "userId", NULL },
	{ "real userId", K_HS, S_HS, "\"userId\":4.5," BASE, "userId", NULL },
	{ "control char userId", K_HS, S_HS, "\"userId\":\"u\\n1\"," BASE, "userId", NULL },
	{ "bad userId, good sub", K_HS, S_HS, "\"userId\":{},\"sub\":\"s9\"," BASE, "userId", NULL },
	{ "bad sub", K_HS, S_HS, "\"sub\":[\"s9\"]," BASE, "sub", NULL },
	/* organization and role */
	{ "no org", K_HS, S_HS, "\"userId\":\"u1\",\"role\":\"staff\",\"exp\":1800000600", "organizationId", NULL },
	{ "numeric org", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":5,\"role\":\"staff\",\"exp\":1800000600", "organizationId", NULL },
	{ "org with space", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org 1\",\"role\":\"staff\",\"exp\":1800000600", "organizationId", NULL },
	{ "empty org", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"\",\"role\":\"staff\",\"exp\":1800000600", "organizationId", NULL },
	{ "65-byte org", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"" A64 "a\",\"role\":\"staff\",\"exp\":1800000600", "organizationId", NULL },
	{ "64-byte org", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"" A64 "\",\"role\":\"staff\",\"exp\":1800000600", NULL, "u1" },
	{ "no role", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"exp\":1800000600", "role", NULL },
	{ "unknown role", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"superuser\",\"exp\":1800000600", "role", NULL },
	{ "role case", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"Admin\",\"exp\":1800000600", "role", NULL },
	{ "role none", K_HS, S_HS, "\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"none\",\"exp\":1800000600", "role", NULL },
};

START_TEST(test_verify_table)
{
	struct ciis_keys *k = keys_for(cases[_i].cfg, 0);
	char *token = sign(cases[_i].signer, cases[_i].claims);
	struct ciis_principal p;
	struct ciis_err err;
	int rc;

	ciis_err_clear(&err);
	rc = ciis_jwt_verify(k, token, NOW, &p, &err);
	if (cases[_i].field == NULL) {
		ck_assert_msg(rc == 0, "%s: refused: %s: %s", cases[_i].label, err.field, err.message);
		ck_assert_str_eq(p.user_id, cases[_i].user);
		ck_assert_int_eq(err.code, CIIS_E_OK);
	} else {
		ck_assert_msg(rc == -1, "%s: accepted", cases[_i].label);
		ck_assert_int_eq(err.code, CIIS_E_UNAUTHORIZED);
		ck_assert_msg(strcmp(err.field, cases[_i].field) == 0, "%s: field %s (%s), wanted %s",
		    cases[_i].label, err.field, err.message, cases[_i].field);
		ck_assert_str_ne(err.message, "");
		ck_assert_ptr_null(strstr(err.message, strrchr(token, '.') + 1));
		ck_assert_str_eq(p.user_id, "");		/* nothing half-filled */
		ck_assert_int_eq(p.role, CIIS_ROLE_NONE);
	}
	free(token);
	ciis_keys_free(k);
}
END_TEST

/* The confusion token is a valid libjwt token: only our pinning stops it. */
START_TEST(test_confusion_is_real)
{
	char *token = sign(S_HS_RSAPUB, "\"userId\":\"u1\"," BASE);
	size_t len;
	char *pem = data_file("rsa-public.pem", &len);
	jwt_t *j = NULL;

	ck_assert_int_eq(jwt_decode(&j, token, (unsigned char *)pem, (int)len), 0);
	ck_assert_int_eq(jwt_get_alg(j), JWT_ALG_HS256);
	jwt_free(j);
	free(pem);
	free(token);
}
END_TEST

/* ---- hand-made tokens ---- */

static char *
b64url(const char *s)
{
	size_t n = strlen(s);
	char *out = ciis_xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return out;
}

static char *
handmade(const char *header, const char *payload, const char *sig)
{
	char *h = b64url(header), *p = b64url(payload);
	char *t = ciis_xasprintf("%s.%s.%s", h, p, sig);

	free(h);
	free(p);
	return t;
}

static int
verify_field(enum cfg cfg, const char *token, const char *field)
{
	struct ciis_keys *k = keys_for(cfg, 0);
	struct ciis_principal p;
	struct ciis_err err;
	int rc;

	ciis_err_clear(&err);
	rc = ciis_jwt_verify(k, token, NOW, &p, &err);
	ciis_keys_free(k);
	if (rc == 0)
		return 0;
	ck_assert_int_eq(err.code, CIIS_E_UNAUTHORIZED);
	ck_assert_msg(field == NULL || strcmp(err.field, field) == 0, "field %s (%s), wanted %s",
	    err.field, err.message, field);
	return rc;
}

#define GOOD_PAYLOAD "{\"userId\":\"u1\"," BASE "}"

START_TEST(test_alg_none)
{
	char *t = handmade("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, "");

	ck_assert_int_eq(verify_field(K_HS, t, "alg"), -1);
	ck_assert_int_eq(verify_field(K_RS, t, "alg"), -1);
	free(t);
	/* none with something in the signature place */
	t = handmade("{\"alg\":\"none\"}", GOOD_PAYLOAD, "c2ln");
	ck_assert_int_eq(verify_field(K_HS, t, "token"), -1);
	free(t);
}
END_TEST

/* A real signature under a swapped header or payload. */
START_TEST(test_tampered)
{
	char *good = sign(_i == 0 ? S_HS : S_RS, "\"userId\":\"u1\"," BASE);
	char *sig = strrchr(good, '.') + 1, *t;
	const char *hdr = _i == 0 ? "{\"alg\":\"HS256\",\"typ\":\"JWT\"}" : "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	enum cfg cfg = _i == 0 ? K_HS : K_RS;

	ck_assert_int_eq(verify_field(cfg, good, NULL), 0);
	t = handmade(hdr, "{\"userId\":\"u1\",\"organizationId\":\"org1\",\"role\":\"admin\",\"exp\":1800000600}", sig);
	ck_assert_int_eq(verify_field(cfg, t, "token"), -1);
	free(t);
	t = handmade("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, sig);
	ck_assert_int_eq(verify_field(cfg, t, "token"), -1);
	free(t);
	free(good);
}
END_TEST

static const char *const garbage[] = {
	"", "abc", "a.b", "a.b.c.d", "a..b", ".a.b", "a.b.", "!!!.@@@.###",
	"YWJj.YWJj.YWJj", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.YWJj", "a.b c.d", "a.b.c\n",
	"eyJ.eyJ.eyJ", "====.====.====",
};

START_TEST(test_garbage)
{
	ck_assert_int_eq(verify_field(K_HS, garbage[_i], NULL), -1);
}
END_TEST

START_TEST(test_null_and_huge)
{
	char *big = ciis_xmalloc(9001);
	char *good = sign(S_HS, "\"userId\":\"u1\"," BASE);

	ck_assert_int_eq(verify_field(K_HS, NULL, "token"), -1);
	memset(big, 'a', 9000);
	big[9000] = '\0';
	big[100] = big[200] = '.';
	ck_assert_int_eq(verify_field(K_HS, big, "token"), -1);
	/* a padded real token: refused for its length, before any parsing */
	free(big);
	big = ciis_xasprintf("%s%8200s", good, "");
	ck_assert_int_eq(verify_field(K_HS, big, "token"), -1);
	free(big);
	free(good);
}
END_TEST

/* Trailing blanks are what ciis_auth_bearer can leave; they do not matter. */
START_TEST(test_trailing_blanks)
{
	char *good = sign(S_HS, "\"userId\":\"u1\"," BASE);
	char *t = ciis_xasprintf("%s \t ", good);

	ck_assert_int_eq(verify_field(K_HS, t, NULL), 0);
	free(t);
	free(good);
}
END_TEST

START_TEST(test_principal_fields)
{
	struct ciis_keys *k = keys_for(K_HS, 0);
	char *t = sign(S_HS, "\"userId\":\"u1\",\"organizationId\":\"org_A-1\",\"role\":\"admin\","
	    "\"exp\":1800000600,\"name\":\"Ann Smith\"");
	struct ciis_principal p;
	struct ciis_err err;

	ck_assert_int_eq(ciis_jwt_verify(k, t, NOW, &p, &err), 0);
	ck_assert_str_eq(p.user_id, "u1");
	ck_assert_str_eq(p.org_id, "org_A-1");
	ck_assert_int_eq(p.role, CIIS_ROLE_ADMIN);
	ck_assert_str_eq(p.name, "Ann Smith");
	ck_assert_int_eq(p.exp, 1800000600);
	free(t);
	ciis_keys_free(k);
}
END_TEST

/* Too long a name is cut to 128 bytes, never inside a UTF-8 character. */
START_TEST(test_name_truncated)
{
	struct ciis_keys *k = keys_for(K_HS, 0);
	char claims[1024], name[400];
	struct ciis_principal p;
	struct ciis_err err;
	char *t;

	memset(name, 'n', 127);
	strcpy(name + 127, "\xc3\xa9tail-that-is-cut");	/* é at bytes 127..128 */
	snprintf(claims, sizeof claims, "\"userId\":\"u1\",\"name\":\"%s\"," BASE, name);
	t = sign(S_HS, claims);
	ck_assert_int_eq(ciis_jwt_verify(k, t, NOW, &p, &err), 0);
	ck_assert_uint_eq(strlen(p.name), 127);
	ck_assert_int_eq(memcmp(p.name, name, 127), 0);
	free(t);
	/* a non-string name is ignored, the token is fine */
	t = sign(S_HS, "\"userId\":\"u1\",\"name\":5," BASE);
	ck_assert_int_eq(ciis_jwt_verify(k, t, NOW, &p, &err), 0);
	ck_assert_str_eq(p.name, "");
	free(t);
	ciis_keys_free(k);
}
END_TEST

/* ---- minting ---- */

static void
principal(struct ciis_principal *p, const char *user, const char *org, enum ciis_role r,
    const char *name)
{
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", user);
	snprintf(p->org_id, sizeof p->org_id, "%s", org);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->role = r;
}

START_TEST(test_mint_round_trip)
{
	static const enum cfg cfgs[] = { K_HS, K_RS, K_ES, K_HS_ISSAUD };
	struct ciis_keys *k = keys_for(cfgs[_i], 1);
	struct ciis_principal in, out;
	struct ciis_err err;
	char *t;

	principal(&in, "user-7", "org123", CIIS_ROLE_REPORTER, "Bo \xc3\xa9");
	t = ciis_jwt_mint(k, &in, NOW, 600, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ciis_jwt_verify(k, t, NOW + 599, &out, &err), 0);
	ck_assert_str_eq(out.user_id, "user-7");
	ck_assert_str_eq(out.org_id, "org123");
	ck_assert_int_eq(out.role, CIIS_ROLE_REPORTER);
	ck_assert_str_eq(out.name, "Bo \xc3\xa9");
	ck_assert_int_eq(out.exp, NOW + 600);
	/* valid for ttl seconds, not one more */
	ck_assert_int_eq(ciis_jwt_verify(k, t, NOW + 600, &out, &err), -1);
	ck_assert_str_eq(err.field, "exp");
	free(t);
	ciis_keys_free(k);
}
END_TEST

/* What a minted token carries, read with libjwt alone. */
START_TEST(test_mint_claims)
{
	struct ciis_keys *k = keys_for(K_HS_ISSAUD, 1);
	struct ciis_principal in;
	struct ciis_err err;
	jwt_t *j = NULL;
	char *t;

	principal(&in, "u1", "org1", CIIS_ROLE_VIEWER, "");
	t = ciis_jwt_mint(k, &in, NOW, 60, &err);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(jwt_decode(&j, t, (const unsigned char *)SECRET, (int)strlen(SECRET)), 0);
	ck_assert_int_eq(jwt_get_alg(j), JWT_ALG_HS256);
	ck_assert_str_eq(jwt_get_grant(j, "userId"), "u1");
	ck_assert_str_eq(jwt_get_grant(j, "sub"), "u1");
	ck_assert_str_eq(jwt_get_grant(j, "organizationId"), "org1");
	ck_assert_str_eq(jwt_get_grant(j, "role"), "viewer");
	ck_assert_str_eq(jwt_get_grant(j, "iss"), "https://issuer.example");
	ck_assert_str_eq(jwt_get_grant(j, "aud"), "ciis");
	ck_assert_int_eq(jwt_get_grant_int(j, "iat"), NOW);
	ck_assert_int_eq(jwt_get_grant_int(j, "exp"), NOW + 60);
	ck_assert_ptr_null(jwt_get_grant(j, "name"));	/* empty name: no claim */
	jwt_free(j);
	free(t);
	ciis_keys_free(k);
}
END_TEST

static const struct {
	const char *user, *org;
	enum ciis_role role;
	long ttl;
	const char *field;
} bad_mints[] = {
	{ "", "org1", CIIS_ROLE_VIEWER, 60, "userId" },
	{ "u1", "", CIIS_ROLE_VIEWER, 60, "organizationId" },
	{ "u1", "org 1", CIIS_ROLE_VIEWER, 60, "organizationId" },
	{ "u1", "org1", CIIS_ROLE_NONE, 60, "role" },
	{ "u1", "org1", (enum ciis_role)99, 60, "role" },
	{ "u1", "org1", CIIS_ROLE_ADMIN, 0, "ttl" },
	{ "u1", "org1", CIIS_ROLE_ADMIN, -5, "ttl" },
};

START_TEST(test_mint_refuses)
{
	struct ciis_keys *k = keys_for(K_HS, 1);
	struct ciis_principal in;
	struct ciis_err err;

	principal(&in, bad_mints[_i].user, bad_mints[_i].org, bad_mints[_i].role, "");
	ciis_err_clear(&err);
	ck_assert_ptr_null(ciis_jwt_mint(k, &in, NOW, bad_mints[_i].ttl, &err));
	ck_assert_int_eq(err.code, CIIS_E_BAD_REQUEST);
	ck_assert_str_eq(err.field, bad_mints[_i].field);
	ciis_keys_free(k);
}
END_TEST

START_TEST(test_mint_needs_signing_keys)
{
	struct ciis_keys *k = keys_for(K_RS, 0);
	struct ciis_principal in;
	struct ciis_err err;

	principal(&in, "u1", "org1", CIIS_ROLE_VIEWER, "");
	ciis_err_clear(&err);
	ck_assert_ptr_null(ciis_jwt_mint(k, &in, NOW, 60, &err));
	ck_assert_int_eq(err.code, CIIS_E_INTERNAL);
	ciis_keys_free(k);
}
END_TEST

/* ---- key loading ---- */

static const struct {
	const char *alg, *pub, *priv;
	int for_signing;
	const char *error;	/* a prefix of the message */
} bad_keys[] = {
	{ "RS256", NULL, NULL, 0, "jwt.public_key_file: not set" },
	{ "RS256", "/nonexistent.pem", NULL, 0, "jwt.public_key_file: cannot open /nonexistent.pem: " },
	{ "RS256", "ec-public.pem", NULL, 0, "jwt.public_key_file: not an RSA" },
	{ "ES256", "rsa-public.pem", NULL, 0, "jwt.public_key_file: not a P-256 key for ES256" },
	{ "RS256", "rsa-private.pem", NULL, 0, "jwt.public_key_file: not an unencrypted PEM public key" },
	{ "RS256", "good.conf", NULL, 0, "jwt.public_key_file: not an unencrypted PEM public key" },
	{ "RS256", "rsa-public.pem", NULL, 1, "jwt.private_key_file: not set" },
	{ "RS256", "rsa-public.pem", "rsa-public.pem", 1, "jwt.private_key_file: not an unencrypted PEM private key" },
	{ "ES256", "ec-public.pem", "rsa-private.pem", 1, "jwt.private_key_file: not a P-256 key" },
	{ "HS256", NULL, NULL, 0, "jwt.secret: not set" },
	{ "HS384", NULL, NULL, 0, "jwt.algorithm: expected HS256|RS256|ES256" },
};

static char *
data_path(const char *name)
{
	if (name == NULL)
		return NULL;
	return name[0] == '/' ? ciis_xstrdup(name) : ciis_xasprintf("%s/%s", CIIS_TEST_DATA, name);
}

START_TEST(test_keys_load_errors)
{
	struct ciis_conf c;
	char err[512] = "";

	ciis_conf_defaults(&c);
	free(c.jwt_algorithm);
	c.jwt_algorithm = ciis_xstrdup(bad_keys[_i].alg);
	c.jwt_public_key_file = data_path(bad_keys[_i].pub);
	c.jwt_private_key_file = data_path(bad_keys[_i].priv);
	ck_assert_ptr_null(ciis_keys_load(&c, bad_keys[_i].for_signing, err, sizeof err));
	ck_assert_msg(strncmp(err, bad_keys[_i].error, strlen(bad_keys[_i].error)) == 0,
	    "got \"%s\"", err);
	ciis_conf_cleanup(&c);
}
END_TEST

/* ---- Authorization header and roles ---- */

static const struct {
	const char *header, *token;	/* token NULL: refused */
} bearers[] = {
	{ "Bearer abc.def.ghi", "abc.def.ghi" },
	{ "bearer abc", "abc" },
	{ "BEARER   abc  ", "abc  " },
	{ "  Bearer\tabc", "abc" },
	{ "Basic dXNlcjpwdw==", NULL },
	{ "Bearer", NULL },
	{ "Bearer ", NULL },
	{ "Bearer    ", NULL },
	{ "Bearerabc", NULL },
	{ "Bearer a b", NULL },
	{ "", NULL },
	{ NULL, NULL },
};

START_TEST(test_bearer)
{
	const char *t = ciis_auth_bearer(bearers[_i].header);

	if (bearers[_i].token == NULL)
		ck_assert_ptr_null(t);
	else
		ck_assert_str_eq(t, bearers[_i].token);
}
END_TEST

START_TEST(test_roles)
{
	static const char *const names[] = { "viewer", "reporter", "staff", "admin" };

	for (int r = CIIS_ROLE_VIEWER; r <= CIIS_ROLE_ADMIN; r++) {
		ck_assert_str_eq(ciis_role_name((enum ciis_role)r), names[r - 1]);
		ck_assert_int_eq(ciis_role_parse(names[r - 1]), r);
	}
	ck_assert_int_lt(CIIS_ROLE_VIEWER, CIIS_ROLE_REPORTER);	/* the order of SPEC §3 */
	ck_assert_int_lt(CIIS_ROLE_STAFF, CIIS_ROLE_ADMIN);
	ck_assert_int_eq(ciis_role_parse("root"), CIIS_ROLE_NONE);
	ck_assert_int_eq(ciis_role_parse(""), CIIS_ROLE_NONE);
	ck_assert_int_eq(ciis_role_parse(NULL), CIIS_ROLE_NONE);
	ck_assert_int_eq(ciis_role_parse("none"), CIIS_ROLE_NONE);
	ck_assert_str_eq(ciis_role_name((enum ciis_role)42), "none");
}
END_TEST

Suite *
jwt_suite(void)
{
	Suite *s = suite_create("jwt");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_verify_table, 0, sizeof cases / sizeof cases[0]);
	tcase_add_test(tc, test_confusion_is_real);
	tcase_add_test(tc, test_alg_none);
	tcase_add_loop_test(tc, test_tampered, 0, 2);
	tcase_add_loop_test(tc, test_garbage, 0, sizeof garbage / sizeof garbage[0]);
	tcase_add_test(tc, test_null_and_huge);
	tcase_add_test(tc, test_trailing_blanks);
	tcase_add_test(tc, test_principal_fields);
	tcase_add_test(tc, test_name_truncated);
	tcase_add_loop_test(tc, test_mint_round_trip, 0, 4);
	tcase_add_test(tc, test_mint_claims);
	tcase_add_loop_test(tc, test_mint_refuses, 0, sizeof bad_mints / sizeof bad_mints[0]);
	tcase_add_test(tc, test_mint_needs_signing_keys);
	tcase_add_loop_test(tc, test_keys_load_errors, 0, sizeof bad_keys / sizeof bad_keys[0]);
	tcase_add_loop_test(tc, test_bearer, 0, sizeof bearers / sizeof bearers[0]);
	tcase_add_test(tc, test_roles);
	suite_add_tcase(s, tc);
	return s;
}
