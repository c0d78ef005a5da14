/*
 * The sharing-server tests' fixture (test_server_fixture.h): the PKI and partners file made with
 * the GnuTLS API (test_pki.c), and the register of eight sites with known markings.
 */
#include <stdio.h>
#include <string.h>

#include "vigia/sites.h"
#include "test_pki.h"
#include "test_obs.h"
#include "test_server_fixture.h"

int vg_tsrv_pki(const vg_tsrv_who *who, size_t n, const char *ca_path, const char *ca_key, const char *srv_cert,
                const char *srv_key, const char *partners, char (*cert)[VG_TSRV_PATH], char (*key)[VG_TSRV_PATH])
{
  gnutls_x509_privkey_t cak = NULL, k = NULL;
  gnutls_x509_crt_t ca = NULL, c = NULL;
  FILE *pf = NULL;
  int rc = -1, first = 1;
  if (vg_tpki_key(&cak) || vg_tpki_cert(&ca, cak, "vigia test partners CA", 1, 1, 0, NULL, NULL) ||
      vg_tpki_save(ca, cak, ca_path, ca_key))
    goto done;
  if (vg_tpki_key(&k) || vg_tpki_cert(&c, k, "localhost", 2, 0, 1, ca, cak) || vg_tpki_save(c, k, srv_cert, srv_key))
    goto done;
  gnutls_x509_crt_deinit(c);
  gnutls_x509_privkey_deinit(k);
  c = NULL;
  k = NULL;
  if (!(pf = fopen(partners, "w")))
    goto done;
  fprintf(pf, "[\n");
  for (size_t w = 0; w < n; w++) {
    char fp[65];
    if (!who[w].has_cert)
      continue;
    if (vg_tpki_key(&k) || vg_tpki_cert(&c, k, who[w].name, (unsigned char)(10 + w), 0, 0, who[w].listed ? ca : NULL,
                              who[w].listed ? cak : NULL) ||
        vg_tpki_save(c, k, cert[w], key[w]) || vg_tpki_fingerprint(c, fp))
      goto done;
    if (who[w].listed) {
      fprintf(pf,
              "%s  {\"fingerprint\": \"%s\", \"name\": \"%s\", \"country\": \"%s\", \"cleared\": \"%s\", "
              "\"role\": \"%s\", \"revoked\": %s}",
              first ? "" : ",\n", fp, who[w].name, who[w].country, who[w].cleared, who[w].role,
              who[w].revoked ? "true" : "false");
      first = 0;
    }
    gnutls_x509_crt_deinit(c);
    gnutls_x509_privkey_deinit(k);
    c = NULL;
    k = NULL;
  }
  fprintf(pf, "\n]\n");
  rc = 0;
done:
  if (pf && fclose(pf) != 0)
    rc = -1;
  if (c)
    gnutls_x509_crt_deinit(c);
  if (k)
    gnutls_x509_privkey_deinit(k);
  if (ca)
    gnutls_x509_crt_deinit(ca);
  if (cak)
    gnutls_x509_privkey_deinit(cak);
  return rc;
}

/* ---- the register --------------------------------------------------------------------------- */

int vg_tsrv_register(const char *db)
{
  vg_register *r = NULL;
  vg_fuse_params confirm_all, normal;
  int rc;
  vg_fuse_params_default(&normal);
  vg_fuse_params_default(&confirm_all);
  confirm_all.confirm = -100; /* sites 1-7 confirmed from their first detection */
  if ((rc = vg_register_open(&r, db)) != VG_OK)
    return rc;
  for (int s = 0; s < VG_TSRV_NSITES && rc == VG_OK; s++)
    for (int k = 0; k < 2 && rc == VG_OK; k++) {
      vg_obs o;
      if (!vg_test_markings[s][k])
        continue;
      o = vg_test_obs("serve", s + 1, k, vg_test_markings[s][k]);
      if (s + 1 == 8)
        o.lat += 0.5; /* the candidate, far from the others */
      rc = vg_register_ingest(r, &o, 1, s + 1 == 8 ? &normal : &confirm_all, NULL);
    }
  for (int s = 1; s <= VG_TSRV_NSITES && rc == VG_OK; s++) {
    vg_site site;
    if ((rc = vg_register_site(r, s, &site)) == VG_OK &&
        site.state != (s == 8 ? VG_SITE_CANDIDATE : VG_SITE_CONFIRMED))
      rc = vg_error_set(VG_E_INVALID, "site %d state %d", s, site.state);
  }
  vg_register_close(r);
  return rc;
}
