/* The relay's Check runner: every suite of tests/unit/relay_suites.h. */
#include <stdlib.h>

#include "relay_suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(relay_loop_suite());
	int failed;

	srunner_add_suite(sr, relay_http_suite());
	srunner_add_suite(sr, relay_ws_suite());
	srunner_add_suite(sr, relay_eio_suite());
	srunner_add_suite(sr, relay_sio_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
