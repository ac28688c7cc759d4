/* ciis-token: mint one JWT from the configured key, for operators and tests.
 * Only a shell around ciis_keys_load() and ciis_jwt_mint(): whatever it
 * prints, ciis-api and ciis-relay accept under the same configuration. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/auth.h"
#include "core/clock.h"
#include "core/config.h"

#define TTL_DEFAULT 3600
#define TTL_MAX (10L * 366 * 24 * 3600)		/* ten years: anything longer is a typo */

struct args {
	const char *conf;
	const char *user, *org, *role, *name;
	long ttl;
};

static const char usage_line[] =
    "usage: ciis-token [-c FILE] --user ID --org ID --role ROLE [--ttl SECONDS] [--name NAME]\n";

static void
usage(FILE *out)
{
	fputs(usage_line, out);
}

static void
help(void)
{
	usage(stdout);
	fputs("Print a JWT signed with the key of the configuration.\n"
	    "  -c, --config FILE   configuration file (default $CIIS_CONFIG, then "
	    CIIS_CONF_DEFAULT ")\n"
	    "  -u, --user ID       userId and sub claims\n"
	    "  -o, --org ID        organizationId claim\n"
	    "  -r, --role ROLE     viewer, reporter, staff or admin\n"
	    "  -t, --ttl SECONDS   lifetime (default 3600)\n"
	    "  -n, --name NAME     display name claim\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       the version\n", stdout);
}

static int
parse_ttl(const char *s, long *ttl)
{
	char *end;

	*ttl = strtol(s, &end, 10);
	return *s >= '0' && *s <= '9' && *end == '\0' && *ttl >= 1 && *ttl <= TTL_MAX ? 0 : -1;
}

/* 0 to go on, otherwise exit status + 1 (so --help exits 0). */
static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "org", required_argument, NULL, 'o' },
		{ "role", required_argument, NULL, 'r' },
		{ "ttl", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:u:o:r:t:n:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->conf = optarg; break;
		case 'u': a->user = optarg; break;
		case 'o': a->org = optarg; break;
		case 'r': a->role = optarg; break;
		case 'n': a->name = optarg; break;
		case 't':
			if (parse_ttl(optarg, &a->ttl) != 0) {
				fprintf(stderr, "ciis-token: --ttl: expected 1..%ld seconds\n", TTL_MAX);
				return 3;
			}
			break;
		case 'h': help(); return 1;
		case 'V': printf("ciis-token (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 1;
		default: return 3;	/* getopt_long said why */
		}
	}
	if (optind != argc || a->user == NULL || a->org == NULL || a->role == NULL) {
		fprintf(stderr, "ciis-token: %s\n", optind != argc ? "unexpected argument"
		    : "--user, --org and --role are required");
		return 3;
	}
	return 0;
}

/* Copy the arguments into a principal; exit-status style return. */
static int
principal_of(const struct args *a, struct ciis_principal *p)
{
	memset(p, 0, sizeof *p);
	if ((p->role = ciis_role_parse(a->role)) == CIIS_ROLE_NONE) {
		fprintf(stderr, "ciis-token: --role: expected viewer, reporter, staff or admin\n");
		return 2;
	}
	if (*a->user == '\0' || *a->org == '\0' ||
	    strlen(a->user) > CIIS_ID_MAX || strlen(a->org) > CIIS_ID_MAX) {
		fprintf(stderr, "ciis-token: --user and --org take 1..%d bytes\n", CIIS_ID_MAX);
		return 2;
	}
	snprintf(p->user_id, sizeof p->user_id, "%s", a->user);
	snprintf(p->org_id, sizeof p->org_id, "%s", a->org);
	/* too long a name is cut, as ciis_jwt_verify cuts it */
	snprintf(p->name, sizeof p->name, "%s", a->name ? a->name : "");
	return 0;
}

static int
mint(const struct args *a, const struct ciis_principal *p)
{
	struct ciis_conf conf;
	struct ciis_keys *keys = NULL;
	struct ciis_err err;
	char errbuf[512];
	char *token = NULL;
	int status = 1;

	ciis_conf_defaults(&conf);
	if (ciis_conf_load(&conf, a->conf, errbuf, sizeof errbuf) != 0 ||
	    (keys = ciis_keys_load(&conf, 1, errbuf, sizeof errbuf)) == NULL) {
		fprintf(stderr, "ciis-token: %s\n", errbuf);
	} else if ((token = ciis_jwt_mint(keys, p, ciis_now_ms() / 1000, a->ttl, &err)) == NULL) {
		fprintf(stderr, "ciis-token: %s%s%s\n", err.field, err.field[0] ? ": " : "",
		    err.message);
		if (err.code == CIIS_E_BAD_REQUEST) {	/* an argument it refused */
			usage(stderr);
			status = 2;
		}
	} else {
		printf("%s\n", token);
		status = fflush(stdout) == 0 ? 0 : 1;
	}
	free(token);
	ciis_keys_free(keys);
	ciis_conf_cleanup(&conf);
	return status;
}

int
main(int argc, char **argv)
{
	struct args a = { .ttl = TTL_DEFAULT };
	struct ciis_principal p;
	int rc;

	if ((rc = parse_args(argc, argv, &a)) != 0) {
		if (rc == 3)
			usage(stderr);
		return rc - 1;
	}
	if ((rc = principal_of(&a, &p)) != 0) {
		usage(stderr);
		return rc;
	}
	return mint(&a, &p);
}
