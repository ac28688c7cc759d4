/* ciis-api's Check runner: the pure parts of src/api (FastCGI records). */
#include <stdlib.h>

#include "api_suites.h"

int
main(void)
{
	SRunner *sr = srunner_create(fcgi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
