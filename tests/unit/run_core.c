/* The core's Check runner: every suite of tests/unit/suites.h. */
#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, jwt_suite());
	srunner_add_suite(sr, place_suite());
	srunner_add_suite(sr, issue_suite());
	srunner_add_suite(sr, cursor_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, sse_suite());
	srunner_add_suite(sr, ring_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
