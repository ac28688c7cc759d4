/* Every Check suite of the relay runner (the protocol codecs, no sockets,
 * and the event loop). */
#ifndef CIIS_TESTS_RELAY_SUITES_H
#define CIIS_TESTS_RELAY_SUITES_H

#include <check.h>

Suite *relay_loop_suite(void);
Suite *relay_http_suite(void);
Suite *relay_ws_suite(void);
Suite *relay_eio_suite(void);
Suite *relay_sio_suite(void);

#endif
