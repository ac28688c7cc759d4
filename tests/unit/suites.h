/* Every Check suite of the core runner. */
#ifndef CIIS_TESTS_SUITES_H
#define CIIS_TESTS_SUITES_H

#include <check.h>

Suite *log_suite(void);

#endif
