/*
 * Test PKI made with the GnuTLS API, shared by the server's tests and bench_serve: keys,
 * certificates (CA, server for 127.0.0.1/localhost, clients; signed by a CA or self-signed),
 * PEM files and SHA-256 fingerprints.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_pki.h"

int vg_tpki_write(const char *path, const gnutls_datum_t *d)
{
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(d->data, 1, d->size, f) == d->size;
  if (f && fclose(f) != 0)
    ok = 0;
  return ok ? 0 : -1;
}

int vg_tpki_key(gnutls_x509_privkey_t *k)
{
  if (gnutls_x509_privkey_init(k) < 0)
    return -1;
  return gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0
           ? -1
           : 0;
}

/* A certificate for @p key, signed by (@p icrt, @p ikey), or self-signed when @p icrt is NULL. */
int vg_tpki_cert(gnutls_x509_crt_t *out, gnutls_x509_privkey_t key, const char *cn, unsigned char serial, int ca,
                 int server, gnutls_x509_crt_t icrt, gnutls_x509_privkey_t ikey)
{
  return vg_tpki_cert_until(out, key, cn, serial, ca, server, icrt, ikey, time(NULL) + 86400);
}

int vg_tpki_cert_until(gnutls_x509_crt_t *out, gnutls_x509_privkey_t key, const char *cn, unsigned char serial,
                       int ca, int server, gnutls_x509_crt_t icrt, gnutls_x509_privkey_t ikey, time_t not_after)
{
  gnutls_x509_crt_t c;
  time_t now = time(NULL);
  unsigned char kid[64];
  size_t kl = sizeof kid;
  if (gnutls_x509_crt_init(&c) < 0)
    return -1;
  if (gnutls_x509_crt_set_version(c, 3) < 0 || gnutls_x509_crt_set_serial(c, &serial, 1) < 0 ||
      gnutls_x509_crt_set_activation_time(c, now - 3600) < 0 ||
      gnutls_x509_crt_set_expiration_time(c, not_after) < 0 ||
      gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)) < 0 ||
      gnutls_x509_crt_set_key(c, key) < 0 || gnutls_x509_crt_set_basic_constraints(c, ca, -1) < 0 ||
      gnutls_x509_crt_set_key_usage(c, ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
                                          : GNUTLS_KEY_DIGITAL_SIGNATURE) < 0)
    goto fail;
  if (!ca && gnutls_x509_crt_set_key_purpose_oid(c, server ? GNUTLS_KP_TLS_WWW_SERVER : GNUTLS_KP_TLS_WWW_CLIENT,
                                                 0) < 0)
    goto fail;
  if (server) {
    static const unsigned char ip[4] = {127, 0, 0, 1};
    if (gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND) < 0)
      goto fail;
  }
  if (gnutls_x509_crt_get_key_id(c, 0, kid, &kl) < 0 || gnutls_x509_crt_set_subject_key_id(c, kid, kl) < 0)
    goto fail;
  if (icrt) {
    kl = sizeof kid;
    if (gnutls_x509_crt_get_subject_key_id(icrt, kid, &kl, NULL) < 0 ||
        gnutls_x509_crt_set_authority_key_id(c, kid, kl) < 0)
      goto fail;
  }
  if (gnutls_x509_crt_sign2(c, icrt ? icrt : c, icrt ? ikey : key, GNUTLS_DIG_SHA256, 0) < 0)
    goto fail;
  *out = c;
  return 0;
fail:
  gnutls_x509_crt_deinit(c);
  return -1;
}

int vg_tpki_save(gnutls_x509_crt_t c, gnutls_x509_privkey_t k, const char *cpath, const char *kpath)
{
  gnutls_datum_t d = {NULL, 0};
  int rc = -1;
  if (gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0 || vg_tpki_write(cpath, &d))
    goto done;
  gnutls_free(d.data);
  d.data = NULL;
  if (kpath && (gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d) < 0 || vg_tpki_write(kpath, &d)))
    goto done;
  rc = 0;
done:
  gnutls_free(d.data);
  return rc;
}

int vg_tpki_fingerprint(gnutls_x509_crt_t c, char out[65])
{
  unsigned char fp[32];
  size_t n = sizeof fp;
  if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, fp, &n) < 0 || n != 32)
    return -1;
  for (size_t i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", fp[i]);
  return 0;
}
