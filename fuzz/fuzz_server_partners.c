/*
 * Fuzz harness: the partners file of vigia serve (lib/server/serve.c, vg__partners_parse via
 * vg_server_partners_check; docs/formats/server.md "Partners file"). The whole input is one
 * file. Checked (abort on failure):
 *  - on failure the code is VG_E_MALFORMED, VG_E_LIMIT or VG_E_NOMEM and the message names
 *    the input;
 *  - on success the count is at most VG_SERVER_PARTNERS_MAX, and the same bytes checked again
 *    give the same count (no state kept between calls).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_server_partners: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t n = (size_t)-1, n2 = (size_t)-1;
  int rc = vg_server_partners_check(data, size, "fuzz.partners", &n);
  if (rc != VG_OK) {
    if (rc != VG_E_MALFORMED && rc != VG_E_LIMIT && rc != VG_E_NOMEM)
      fail("an undocumented error code");
    if (!strstr(vg_error_last(), "fuzz.partners") && rc != VG_E_NOMEM)
      fail("an error that does not name the input");
    return 0;
  }
  if (n > VG_SERVER_PARTNERS_MAX)
    fail("more partners than the limit");
  if (vg_server_partners_check(data, size, "fuzz.partners", &n2) != VG_OK || n2 != n)
    fail("the same bytes checked twice differ");
  return 0;
}
