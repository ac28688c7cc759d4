/* ciis-admin seed-demo: organization "demo" with two campuses, ten buildings
 * and fifty issues in every priority and status.  Issues go through the
 * core's store (create, assign, update, resolve) exactly as API calls would,
 * so every one has its events and history.  An organization that already
 * has issues is left alone; campuses and buildings are found by name, so a
 * run that failed halfway can simply be repeated. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/auth.h"
#include "core/clock.h"
#include "core/issue.h"
#include "core/issue_store.h"
#include "core/json.h"
#include "core/place.h"
#include "tools/admin.h"

#define DEMO_ORG "demo"
#define DEMO_NAME "Demo University"
#define MANAGER "u8"		/* assigns work, as a facilities manager would */

static const struct { const char *id, *name; } users[] = {
	{ "u1", "Alice Martin" }, { "u2", "Ben Carter" }, { "u3", "Chloe Nguyen" },
	{ "u4", "Daniel Reyes" }, { "u5", "Emma Fischer" }, { "u6", "Farah Haddad" },
	{ "u7", "George Wright" }, { "u8", "Hannah Kowalski" },
};

/* A city-centre campus and a science park about 3.5 km north of it. */
static const struct { const char *name; double lat, lng; } campuses[] = {
	{ "City Campus", 52.2043, 0.1180 },
	{ "Science Park", 52.2346, 0.1439 },
};

static const struct { int campus; const char *name; double lat, lng; } buildings[] = {
	{ 0, "Main Library", 52.2050, 0.1167 },
	{ 0, "Great Hall", 52.2039, 0.1193 },
	{ 0, "Chemistry Building", 52.2029, 0.1245 },
	{ 0, "Student Union", 52.2061, 0.1149 },
	{ 0, "Arts Faculty", 52.2018, 0.1136 },
	{ 0, "Sports Centre", 52.2002, 0.1214 },
	{ 1, "Innovation Centre", 52.2349, 0.1428 },
	{ 1, "Biotech Labs", 52.2358, 0.1452 },
	{ 1, "Data Centre", 52.2336, 0.1461 },
	{ 1, "Engineering Workshop", 52.2331, 0.1417 },
};

#define NCAMPUSES (sizeof campuses / sizeof campuses[0])
#define NBUILDINGS (sizeof buildings / sizeof buildings[0])

/* One issue and the state it ends in: assigned and later states are reached
 * by assign (MANAGER), then a status PATCH or resolve by the assignee. */
struct seed_issue {
	int building;
	const char *category, *priority, *status;
	const char *title, *description, *floor, *room;
	const char *reporter, *assignee, *resolution;
};

static const struct seed_issue issues[] = {
	{ 0, "plumbing", "high", "open", "Leak under the second-floor sinks",
	  "Water is pooling under the sinks in the second-floor washroom; the floor is slippery.",
	  "2", "W2.04", "u1", NULL, NULL },
	{ 0, "electrical", "medium", "open", "Flickering lights in the reading room",
	  "Two rows of ceiling lights above the long tables flicker every few seconds.",
	  "1", "R1.10", "u2", NULL, NULL },
	{ 1, "hvac", "low", "open", "Great Hall too warm during lectures",
	  "With 300 students in, the hall reaches 27 °C by mid-morning.",
	  "0", "GH", "u3", NULL, NULL },
	{ 2, "safety", "critical", "open", "Eyewash station has no water pressure",
	  "The eyewash station in teaching lab 1 only dribbles when activated.",
	  "1", "L1.02", "u4", NULL, NULL },
	{ 3, "cleaning", "low", "open", "Spilled drinks in the café seating area",
	  "Several tables and the floor by the window are sticky.",
	  "0", "Café", "u5", NULL, NULL },
	{ 4, "it", "medium", "open", "Projector in seminar room 1.12 will not turn on",
	  "The power light stays red and the remote does nothing; seminar at 14:00.",
	  "1", "1.12", "u1", NULL, NULL },
	{ 5, "plumbing", "medium", "open", "Shower drain blocked in the changing room",
	  "Water stands ankle-deep in the second shower of the women's changing room.",
	  "0", "CR-W", "u2", NULL, NULL },
	{ 6, "it", "low", "open", "Wi-Fi drops in the ground-floor meeting rooms",
	  "Laptops lose the eduroam connection every ten minutes or so.",
	  "0", "M0.3", "u3", NULL, NULL },
	{ 7, "hvac", "high", "open", "Cold room above 8 °C",
	  "The cold room alarm has gone off twice today; samples are stored inside.",
	  "0", "CR-1", "u4", NULL, NULL },
	{ 8, "electrical", "critical", "open", "UPS reporting a battery fault",
	  "The UPS for hall B shows a battery fault and estimates 2 minutes of runtime.",
	  "0", "Hall B", "u5", NULL, NULL },
	{ 9, "safety", "high", "open", "Guard missing on the pillar drill",
	  "The chuck guard of the pillar drill by the door has been removed.",
	  "0", "WS-1", "u1", NULL, NULL },
	{ 1, "structural", "low", "open", "Cracked floor tile at the main entrance",
	  "A tile just inside the main doors is cracked and rocks when stepped on.",
	  "0", "Foyer", "u2", NULL, NULL },
	{ 4, "grounds", "low", "open", "Hedge blocking the bike racks",
	  "The hedge beside the east entrance has grown over half of the bike racks.",
	  NULL, NULL, "u3", NULL, NULL },
	{ 3, "accessibility", "medium", "open", "Automatic door opener not working",
	  "The push-button opener on the accessible entrance does nothing.",
	  "0", "Entrance B", "u4", NULL, NULL },

	{ 0, "hvac", "medium", "assigned", "Noisy air conditioning in group study rooms",
	  "A loud hum from the ceiling vents makes the study rooms hard to use.",
	  "3", "G3.01", "u5", "u8", NULL },
	{ 2, "plumbing", "high", "assigned", "Fume cupboard sink backing up",
	  "The cup sink in fume cupboard 4 drains very slowly and smells of solvent.",
	  "2", "L2.14", "u1", "u8", NULL },
	{ 3, "electrical", "medium", "assigned", "Sockets dead along the east wall",
	  "None of the six double sockets on the east wall of the main bar work.",
	  "0", "Bar", "u2", "u7", NULL },
	{ 5, "cleaning", "medium", "assigned", "Sports hall floor sticky after the event",
	  "Saturday's fair left the sports hall floor sticky; badminton starts Monday.",
	  "0", "Hall 1", "u3", "u6", NULL },
	{ 6, "security", "high", "assigned", "Badge reader rejects valid cards",
	  "The reader at the side door refuses staff cards that work everywhere else.",
	  "0", "Side door", "u4", "u8", NULL },
	{ 7, "electrical", "high", "assigned", "Breaker trips on the lab bench circuit",
	  "The bench circuit in lab 2 trips whenever the centrifuge starts.",
	  "2", "L2.01", "u5", "u7", NULL },
	{ 9, "hvac", "low", "assigned", "Extractor fan rattling in the workshop",
	  "The dust extractor fan rattles loudly at full speed.",
	  "0", "WS-2", "u1", "u8", NULL },
	{ 1, "it", "medium", "assigned", "Microphone system crackles",
	  "The lectern microphone crackles and cuts out when the cable moves.",
	  "0", "GH", "u2", "u7", NULL },
	{ 8, "cleaning", "low", "assigned", "Dust on the raised-floor tiles",
	  "Dust has built up along the cold aisle of hall A.",
	  "0", "Hall A", "u3", "u6", NULL },
	{ 4, "plumbing", "low", "assigned", "Dripping tap in the staff kitchen",
	  "The cold tap in the second-floor kitchen drips all the time.",
	  "2", "K2", "u4", "u8", NULL },

	{ 0, "electrical", "high", "in_progress", "Emergency lighting failed its test on floor 3",
	  "Four emergency luminaires on floor 3 did not light during the monthly test.",
	  "3", NULL, "u5", "u7", NULL },
	{ 2, "hvac", "critical", "in_progress", "Lab ventilation alarm in room G.07",
	  "The low-airflow alarm sounds continuously; the lab has been evacuated.",
	  "0", "G.07", "u1", "u8", NULL },
	{ 3, "plumbing", "medium", "in_progress", "Toilet running constantly",
	  "The second cubicle in the ground-floor washroom never stops filling.",
	  "0", "WC-0", "u2", "u8", NULL },
	{ 5, "hvac", "medium", "in_progress", "Pool hall humidity too high",
	  "Condensation is running down the pool hall windows.",
	  "0", "Pool", "u3", "u8", NULL },
	{ 6, "it", "medium", "in_progress", "Meeting room display shows no signal",
	  "The wall display in the boardroom shows 'no signal' with any laptop.",
	  "1", "Boardroom", "u4", "u7", NULL },
	{ 7, "safety", "high", "in_progress", "Spill kit missing from lab 2.03",
	  "The chemical spill kit is not in its cabinet in lab 2.03.",
	  "2", "2.03", "u5", "u6", NULL },
	{ 8, "hvac", "critical", "in_progress", "CRAC unit 2 high-pressure alarm",
	  "Computer-room air conditioner 2 has tripped on high refrigerant pressure.",
	  "0", "Plant", "u1", "u8", NULL },
	{ 9, "electrical", "medium", "in_progress", "Scorched three-phase socket",
	  "The three-phase socket beside the lathe is blackened around one pin.",
	  "0", "WS-1", "u2", "u7", NULL },
	{ 1, "cleaning", "low", "in_progress", "Chewing gum on the auditorium seats",
	  "Rows F to H have gum stuck to several seats.",
	  "0", "GH", "u3", "u6", NULL },

	{ 0, "it", "low", "resolved", "Self-service kiosk frozen at login",
	  "The book-return kiosk by the entrance is stuck on the login screen.",
	  "0", "Entrance", "u4", "u7", "Restarted the kiosk and applied the pending update." },
	{ 1, "electrical", "medium", "resolved", "Stage lights out",
	  "None of the stage lights come on from the control desk.",
	  "0", "Stage", "u5", "u7", "Replaced the blown fuse in the dimmer pack." },
	{ 2, "plumbing", "high", "resolved", "Deionised water tap leaking",
	  "The DI water tap in the prep room leaks when closed.",
	  "1", "P1.05", "u1", "u8", "Replaced the tap washer and watched it for 30 minutes." },
	{ 3, "cleaning", "medium", "resolved", "Bins overflowing at the back entrance",
	  "The recycling bins by the loading bay are overflowing.",
	  "0", "Loading bay", "u2", "u6", "Extra collection booked; bins emptied." },
	{ 4, "hvac", "medium", "resolved", "Radiators cold in the east wing",
	  "All radiators in the east corridor are cold this morning.",
	  "1", "East wing", "u3", "u8", "Bled the radiators and restarted the circulation pump." },
	{ 5, "safety", "critical", "resolved", "Fire exit blocked by stored equipment",
	  "Gym mats are stacked against the fire exit of hall 2.",
	  "0", "Hall 2", "u4", "u6", "Mats moved to the store; the exit is clear." },
	{ 6, "plumbing", "low", "resolved", "Water cooler leaking onto the carpet",
	  "The water cooler on the first floor leaves a wet patch.",
	  "1", "Landing", "u5", "u8", "Replaced the cooler's drip tray seal." },
	{ 7, "structural", "medium", "resolved", "Ceiling tile stained and sagging",
	  "A ceiling tile above bench 4 is brown and bowing.",
	  "1", "L1.04", "u1", "u8", "Found a condensate leak above; pipe re-lagged and tile replaced." },
	{ 8, "security", "high", "resolved", "Server room door not latching",
	  "The door to hall A swings open unless pulled hard.",
	  "0", "Hall A", "u2", "u8", "Adjusted the strike plate; the door latches and alarms again." },

	{ 0, "cleaning", "low", "closed", "Graffiti in the stairwell",
	  "Marker graffiti on the wall of the north stairwell, floors 1 to 2.",
	  "1", "Stair N", "u3", "u6", "Cleaned and repainted." },
	{ 1, "hvac", "low", "closed", "Draught from the foyer doors",
	  "A cold draught comes in around the closed foyer doors.",
	  "0", "Foyer", "u4", "u8", "Fitted new brush seals." },
	{ 2, "electrical", "high", "closed", "Fume cupboard light not working",
	  "The light in fume cupboard 2 is out, so work in it has stopped.",
	  "2", "L2.14", "u5", "u7", "Replaced the tube and starter." },
	{ 3, "it", "low", "closed", "Card terminal offline in the shop",
	  "The card payment terminal shows 'no base'.",
	  "0", "Shop", "u1", "u7", "Re-paired the terminal with its base station." },
	{ 5, "plumbing", "medium", "closed", "No hot water in the men's showers",
	  "The showers have run cold since the weekend.",
	  "0", "CR-M", "u2", "u8", "Reset the boiler and replaced the thermostat." },
	{ 6, "grounds", "low", "closed", "Potholes in the visitor car park",
	  "Three deep potholes near the barrier.",
	  NULL, NULL, "u3", "u8", "Potholes filled and the car park re-marked." },
	{ 9, "safety", "critical", "closed", "Gas smell near the brazing bench",
	  "A faint gas smell near the brazing bench; the supply was isolated.",
	  "0", "WS-3", "u4", "u8", "Leaking fitting found and replaced; the line was pressure-tested." },
	{ 4, "accessibility", "medium", "closed", "Lift out of service",
	  "The only lift in the building stops between floors 1 and 2.",
	  NULL, "Lift", "u5", "u8", "The engineer replaced the door sensor; the lift is back in service." },
};

#define NISSUES (sizeof issues / sizeof issues[0])

struct seed {
	struct ciis_db *db;
	int64_t campus[NCAMPUSES];
	int64_t building[NBUILDINGS];
	struct ciis_err err;
};

/* Admin rights for the org under a demo user's id: the store takes the
 * actor (reporterId, actorId) from it. */
static void
principal(struct ciis_principal *p, const char *user)
{
	memset(p, 0, sizeof *p);
	snprintf(p->user_id, sizeof p->user_id, "%s", user);
	snprintf(p->org_id, sizeof p->org_id, "%s", DEMO_ORG);
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
		if (strcmp(users[i].id, user) == 0)
			snprintf(p->name, sizeof p->name, "%s", users[i].name);
	p->role = CIIS_ROLE_ADMIN;
	p->exp = ciis_now_ms() / 1000 + 3600;
}

/* Replace *cur by the issue after a change (next's fields move over). */
static void
take(struct ciis_issue *cur, struct ciis_issue *next)
{
	ciis_issue_cleanup(cur);
	*cur = *next;
	ciis_issue_init(next);
}

static int
count_issues(struct seed *s, int64_t *n)
{
	struct ciis_param p = CIIS_PSTR(DEMO_ORG);
	struct ciis_rows rows = { 0 };

	if (ciis_db_query(s->db, "SELECT COUNT(*) FROM issues WHERE org_id = ?", &p, 1,
	    &rows, &s->err) != 0)
		return -1;
	*n = rows.nrows ? ciis_rows_i64(&rows, 0, 0) : 0;
	ciis_rows_free(&rows);
	return 0;
}

/* The id of the row of `sql` (org, name[, campus]), 0 when there is none. */
static int
find_place(struct seed *s, const char *sql, const char *name, int64_t campus, int64_t *id)
{
	struct ciis_param p[3] = { CIIS_PSTR(DEMO_ORG), CIIS_PSTR(name), CIIS_PI64(campus) };
	struct ciis_rows rows = { 0 };

	*id = 0;
	if (ciis_db_query(s->db, sql, p, campus ? 3 : 2, &rows, &s->err) != 0)
		return -1;
	if (rows.nrows > 0)
		*id = ciis_rows_i64(&rows, 0, 0);
	ciis_rows_free(&rows);
	return 0;
}

static int
place(struct seed *s, int64_t campus, const char *name, double lat, double lng, int64_t *id)
{
	struct ciis_place pl;
	int rc;

	if (find_place(s, campus ?
	    "SELECT id FROM buildings WHERE org_id = ? AND name = ? AND campus_id = ? ORDER BY id LIMIT 1" :
	    "SELECT id FROM campuses WHERE org_id = ? AND name = ? ORDER BY id LIMIT 1",
	    name, campus, id) != 0)
		return -1;
	if (*id != 0)
		return 0;
	memset(&pl, 0, sizeof pl);
	snprintf(pl.org_id, sizeof pl.org_id, "%s", DEMO_ORG);
	pl.campus_id = campus;
	pl.name = (char *)name;		/* lent: pl is not cleaned up */
	pl.has_coords = 1;
	pl.lat = lat;
	pl.lng = lng;
	rc = campus ? ciis_building_create(s->db, &pl, &s->err) :
	    ciis_campus_create(s->db, &pl, &s->err);
	*id = pl.id;
	return rc;
}

static int
seed_places(struct seed *s)
{
	if (ciis_org_upsert(s->db, DEMO_ORG, DEMO_NAME, &s->err) != 0)
		return -1;
	for (size_t i = 0; i < NCAMPUSES; i++)
		if (place(s, 0, campuses[i].name, campuses[i].lat, campuses[i].lng,
		    &s->campus[i]) != 0)
			return -1;
	for (size_t i = 0; i < NBUILDINGS; i++)
		if (place(s, s->campus[buildings[i].campus], buildings[i].name,
		    buildings[i].lat, buildings[i].lng, &s->building[i]) != 0)
			return -1;
	return 0;
}

/* The create body a client would POST; the pin sits up to ~30 m off the
 * building's point, spread by the issue's index. */
static struct json_object *
create_body(const struct seed *s, const struct seed_issue *si, size_t i)
{
	struct json_object *body = json_object_new_object();
	struct json_object *loc = json_object_new_object();
	double dlat = (double)((int)(i * 37 % 11) - 5) * 0.00004;
	double dlng = (double)((int)(i * 53 % 13) - 6) * 0.00005;

	json_object_object_add(body, "title", json_object_new_string(si->title));
	json_object_object_add(body, "description", json_object_new_string(si->description));
	json_object_object_add(body, "category", json_object_new_string(si->category));
	json_object_object_add(body, "priority", json_object_new_string(si->priority));
	json_object_object_add(body, "buildingId", ciis_json_id(s->building[si->building]));
	if (si->floor != NULL)
		json_object_object_add(loc, "floor", json_object_new_string(si->floor));
	if (si->room != NULL)
		json_object_object_add(loc, "room", json_object_new_string(si->room));
	json_object_object_add(loc, "lat", json_object_new_double(buildings[si->building].lat + dlat));
	json_object_object_add(loc, "lng", json_object_new_double(buildings[si->building].lng + dlng));
	json_object_object_add(body, "location", loc);
	return body;
}

static int
op_create(struct seed *s, const struct seed_issue *si, size_t i, struct ciis_issue *cur)
{
	struct json_object *body = create_body(s, si, i);
	struct ciis_principal who;
	int rc = -1;

	principal(&who, si->reporter);
	if (ciis_issue_parse_create(body, cur, &s->err) != 0)
		ciis_issue_init(cur);	/* the parser cleaned it up already */
	else
		rc = ciis_issue_create(s->db, &who, cur, &s->err);
	json_object_put(body);
	return rc;
}

static int
op_assign(struct seed *s, const char *assignee, struct ciis_issue *cur)
{
	struct ciis_principal who;
	struct ciis_issue next;
	int rc;

	principal(&who, MANAGER);
	ciis_issue_init(&next);
	if ((rc = ciis_issue_assign(s->db, &who, cur->id, assignee, &next, &s->err)) == 0)
		take(cur, &next);
	ciis_issue_cleanup(&next);
	return rc;
}

/* A status change, made as the PATCH a staff client would send. */
static int
op_move(struct seed *s, const char *actor, const char *status, struct ciis_issue *cur)
{
	struct json_object *body = json_object_new_object();
	struct ciis_conflict conflict;
	struct ciis_issue_patch patch;
	struct ciis_principal who;
	struct ciis_issue next;
	int rc = -1;

	memset(&conflict, 0, sizeof conflict);
	memset(&patch, 0, sizeof patch);
	ciis_issue_init(&patch.v);
	ciis_issue_init(&next);
	principal(&who, actor);
	json_object_object_add(body, "status", json_object_new_string(status));
	json_object_object_add(body, "version", json_object_new_int64(cur->version));
	if (ciis_issue_parse_patch(body, &patch, &s->err) == 0 &&
	    ciis_issue_update(s->db, &who, cur->id, &patch, cur->version, &next,
	    &conflict, &s->err) == 0) {
		take(cur, &next);
		rc = 0;
	}
	ciis_issue_cleanup(&next);
	ciis_conflict_cleanup(&conflict);
	ciis_issue_patch_cleanup(&patch);
	json_object_put(body);
	return rc;
}

static int
op_resolve(struct seed *s, const char *actor, const char *resolution, struct ciis_issue *cur)
{
	struct ciis_principal who;
	struct ciis_issue next;
	int rc;

	principal(&who, actor);
	ciis_issue_init(&next);
	if ((rc = ciis_issue_resolve(s->db, &who, cur->id, resolution, &next, &s->err)) == 0)
		take(cur, &next);
	ciis_issue_cleanup(&next);
	return rc;
}

/* open ← create; assigned ← + assign; in_progress ← + PATCH; resolved ←
 * + resolve; closed ← + resolve + PATCH.  Each step is one API-like call. */
static int
seed_issue(struct seed *s, const struct seed_issue *si, size_t i)
{
	int st = ciis_status_parse(si->status);
	const char *actor = si->assignee ? si->assignee : MANAGER;
	struct ciis_issue cur;
	int rc = -1;

	ciis_issue_init(&cur);
	if (op_create(s, si, i, &cur) != 0)
		goto out;
	if (si->assignee != NULL && op_assign(s, si->assignee, &cur) != 0)
		goto out;
	if (st == CIIS_ST_IN_PROGRESS && op_move(s, actor, "in_progress", &cur) != 0)
		goto out;
	if ((st == CIIS_ST_RESOLVED || st == CIIS_ST_CLOSED) &&
	    op_resolve(s, actor, si->resolution, &cur) != 0)
		goto out;
	if (st == CIIS_ST_CLOSED && op_move(s, actor, "closed", &cur) != 0)
		goto out;
	rc = 0;
out:
	ciis_issue_cleanup(&cur);
	return rc;
}

int
admin_seed_demo(struct admin *a, int argc, char **argv)
{
	struct seed s = { .db = NULL };
	int64_t existing = 0;

	if (argc != 1)
		return admin_usage(a, "takes no arguments");
	if ((s.db = admin_db(a)) == NULL)
		return ADMIN_FAIL;
	ciis_err_clear(&s.err);
	if (count_issues(&s, &existing) != 0)
		return admin_fail_err(a, "issues", &s.err);
	if (existing > 0) {
		printf("seed-demo: organization %s already has %lld issues; nothing to do\n",
		    DEMO_ORG, (long long)existing);
		return ADMIN_OK;
	}
	if (seed_places(&s) != 0)
		return admin_fail_err(a, "places", &s.err);
	for (size_t i = 0; i < NISSUES; i++)
		if (seed_issue(&s, &issues[i], i) != 0)
			return admin_fail_err(a, issues[i].title, &s.err);
	printf("seed-demo: organization %s (%s): %zu campuses, %zu buildings, %zu issues\n",
	    DEMO_ORG, DEMO_NAME, NCAMPUSES, NBUILDINGS, NISSUES);
	return ADMIN_OK;
}
