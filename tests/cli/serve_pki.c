/*
 * The PKI and partners file of the `vigia serve` command test (tests/cli/test_cli_serve.py),
 * made with the GnuTLS API (tests/support/test_server_fixture.c): the partners' CA, the server's
 * certificate for localhost and 127.0.0.1, and client certificates of mex-ops (MEX,
 * UNCLASSIFIED), gbr-ops (GBR, UNCLASSIFIED) and usa-analyst (USA, TOP SECRET, analyst).
 *
 *   usage: serve_pki DIR    (writes DIR/ca.pem, server.pem, server.key, NAME.pem, NAME.key,
 *                            partners.json)
 */
#include <stdio.h>

#include "test_server_fixture.h"

static const vg_tsrv_who k_who[] = {
  {"mex-ops", "MEX", "UNCLASSIFIED", "partner", 0, 1, 1},
  {"gbr-ops", "GBR", "UNCLASSIFIED", "partner", 0, 1, 1},
  {"usa-analyst", "USA", "TOP SECRET", "analyst", 0, 1, 1},
};
#define N (sizeof k_who / sizeof *k_who)

int main(int argc, char **argv)
{
  char ca[VG_TSRV_PATH], srv[VG_TSRV_PATH], srvk[VG_TSRV_PATH], partners[VG_TSRV_PATH];
  char cert[N][VG_TSRV_PATH], key[N][VG_TSRV_PATH];
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: serve_pki DIR\n");
    return 2;
  }
  snprintf(ca, sizeof ca, "%.100s/ca.pem", argv[1]);
  snprintf(srv, sizeof srv, "%.100s/server.pem", argv[1]);
  snprintf(srvk, sizeof srvk, "%.100s/server.key", argv[1]);
  snprintf(partners, sizeof partners, "%.100s/partners.json", argv[1]);
  for (size_t i = 0; i < N; i++) {
    snprintf(cert[i], sizeof cert[i], "%.100s/%s.pem", argv[1], k_who[i].name);
    snprintf(key[i], sizeof key[i], "%.100s/%s.key", argv[1], k_who[i].name);
  }
  if (gnutls_global_init() < 0)
    return 1;
  rc = vg_tsrv_pki(k_who, N, ca, NULL, srv, srvk, partners, cert, key) ? 1 : 0;
  gnutls_global_deinit();
  return rc;
}
