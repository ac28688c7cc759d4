/* Every Check suite of the core runner. */
#ifndef CIIS_TESTS_SUITES_H
#define CIIS_TESTS_SUITES_H

#include <check.h>

Suite *log_suite(void);
Suite *config_suite(void);
Suite *jwt_suite(void);
Suite *place_suite(void);
Suite *issue_suite(void);
Suite *cursor_suite(void);
Suite *json_suite(void);
Suite *sse_suite(void);
Suite *ring_suite(void);

#endif
