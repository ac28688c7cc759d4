/* Every Check suite of ciis-api's runner (run_api.c). */
#ifndef CIIS_TESTS_API_SUITES_H
#define CIIS_TESTS_API_SUITES_H

#include <check.h>

Suite *fcgi_suite(void);

#endif
