/* Test PKI made with the GnuTLS API (tests/support/test_pki.c). Every function: 0, or -1. */
#ifndef VG_TEST_PKI_H
#define VG_TEST_PKI_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <time.h>

/* Writes a datum to a file. */
int vg_tpki_write(const char *path, const gnutls_datum_t *d);
/* A new ECDSA P-256 key. */
int vg_tpki_key(gnutls_x509_privkey_t *k);
/* A certificate for @p key, signed by (@p icrt, @p ikey), or self-signed when @p icrt is NULL;
 * @p ca: a CA; @p server: a TLS server for localhost and 127.0.0.1, else a TLS client. */
int vg_tpki_cert(gnutls_x509_crt_t *out, gnutls_x509_privkey_t key, const char *cn, unsigned char serial, int ca,
                 int server, gnutls_x509_crt_t icrt, gnutls_x509_privkey_t ikey);
/* vg_tpki_cert valid until @p not_after (vg_tpki_cert: a day from now). */
int vg_tpki_cert_until(gnutls_x509_crt_t *out, gnutls_x509_privkey_t key, const char *cn, unsigned char serial,
                       int ca, int server, gnutls_x509_crt_t icrt, gnutls_x509_privkey_t ikey, time_t not_after);
/* The certificate (and the key, unless @p kpath is NULL) as PEM files. */
int vg_tpki_save(gnutls_x509_crt_t c, gnutls_x509_privkey_t k, const char *cpath, const char *kpath);
/* The certificate's SHA-256 fingerprint, lower-case hex. */
int vg_tpki_fingerprint(gnutls_x509_crt_t c, char out[65]);

#endif
