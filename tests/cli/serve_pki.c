/*
 * The PKI and partners file of the `vigia serve` command test (tests/cli/test_cli_serve.py),
 * made with the GnuTLS API (tests/support/test_pki.c): the partners' CA, the server's
 * certificate for localhost and 127.0.0.1, and client certificates of mex-ops (MEX,
 * UNCLASSIFIED), gbr-ops (GBR, UNCLASSIFIED) and usa-analyst (USA, TOP SECRET, analyst).
 *
 *   usage: serve_pki DIR    (writes DIR/ca.pem, server.pem, server.key, NAME.pem, NAME.key,
 *                            partners.json)
 */
#include <stdio.h>

#include "test_pki.h"

static const struct {
  const char *name, *country, *cleared, *role;
} k_who[] = {
  {"mex-ops", "MEX", "UNCLASSIFIED", "partner"},
  {"gbr-ops", "GBR", "UNCLASSIFIED", "partner"},
  {"usa-analyst", "USA", "TOP SECRET", "analyst"},
};

int main(int argc, char **argv)
{
  gnutls_x509_privkey_t cak, k;
  gnutls_x509_crt_t ca, c;
  char p1[512], p2[512], fp[65];
  FILE *f;
  if (argc != 2) {
    fprintf(stderr, "usage: serve_pki DIR\n");
    return 2;
  }
  if (gnutls_global_init() < 0)
    return 1;
  snprintf(p1, sizeof p1, "%s/ca.pem", argv[1]);
  if (vg_tpki_key(&cak) || vg_tpki_cert(&ca, cak, "vigia test partners CA", 1, 1, 0, NULL, NULL) ||
      vg_tpki_save(ca, cak, p1, NULL))
    return 1;
  snprintf(p1, sizeof p1, "%s/server.pem", argv[1]);
  snprintf(p2, sizeof p2, "%s/server.key", argv[1]);
  if (vg_tpki_key(&k) || vg_tpki_cert(&c, k, "localhost", 2, 0, 1, ca, cak) || vg_tpki_save(c, k, p1, p2))
    return 1;
  gnutls_x509_crt_deinit(c);
  gnutls_x509_privkey_deinit(k);
  snprintf(p1, sizeof p1, "%s/partners.json", argv[1]);
  if (!(f = fopen(p1, "w")))
    return 1;
  fprintf(f, "[\n");
  for (size_t i = 0; i < sizeof k_who / sizeof *k_who; i++) {
    snprintf(p1, sizeof p1, "%s/%s.pem", argv[1], k_who[i].name);
    snprintf(p2, sizeof p2, "%s/%s.key", argv[1], k_who[i].name);
    if (vg_tpki_key(&k) || vg_tpki_cert(&c, k, k_who[i].name, (unsigned char)(10 + i), 0, 0, ca, cak) ||
        vg_tpki_save(c, k, p1, p2) || vg_tpki_fingerprint(c, fp))
      return 1;
    fprintf(f, "  {\"fingerprint\": \"%s\", \"name\": \"%s\", \"country\": \"%s\", \"cleared\": \"%s\", \"role\": \"%s\", "
               "\"revoked\": false}%s\n",
            fp, k_who[i].name, k_who[i].country, k_who[i].cleared, k_who[i].role,
            i + 1 < sizeof k_who / sizeof *k_who ? "," : "");
    gnutls_x509_crt_deinit(c);
    gnutls_x509_privkey_deinit(k);
  }
  fprintf(f, "]\n");
  if (fclose(f) != 0)
    return 1;
  gnutls_x509_crt_deinit(ca);
  gnutls_x509_privkey_deinit(cak);
  gnutls_global_deinit();
  return 0;
}
