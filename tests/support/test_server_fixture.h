/* What the sharing-server tests share (tests/support/test_server_fixture.c): the partners'
 * PKI and partners file, and a register of eight sites with known markings. 0 or -1 / VG_*. */
#ifndef VG_TEST_SERVER_FIXTURE_H
#define VG_TEST_SERVER_FIXTURE_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#define VG_TSRV_T_BASE 1780300800LL /* 2026-06-01T08:00:00Z: the sites' first detections */
#define VG_TSRV_NSITES 8
#define VG_TSRV_PATH 128

/* One client of a test: its partners-file entry, whether the CA signed it (listed) or it is
 * self-signed (rogue), and whether it has a certificate at all. */
typedef struct vg_tsrv_who {
  const char *name, *country, *cleared, *role;
  int revoked;
  int listed; /* in the partners file (signed by the CA) */
  int has_cert;
} vg_tsrv_who;

/*
 * The partners' CA (certificate at @p ca, its key at @p ca_key unless NULL), the server's
 * certificate for localhost and 127.0.0.1 (@p srv_cert, @p srv_key), a client certificate and
 * key per client with has_cert (cert[i], key[i]; serial 10 + i) and the partners file listing
 * the listed ones.
 */
int vg_tsrv_pki(const vg_tsrv_who *who, size_t n, const char *ca, const char *ca_key, const char *srv_cert,
                const char *srv_key, const char *partners, char (*cert)[VG_TSRV_PATH], char (*key)[VG_TSRV_PATH]);

/*
 * A register at @p db of eight sites 1 km apart whose observations carry these markings
 * (derived marking in brackets); sites 1-7 confirmed, 8 a candidate:
 *   1 U REL USA,MEX   2 [C REL USA,MEX]   3 U REL USA,GBR   4 S NOFORN   5 [unmarked]
 *   6 [unmarked]      7 [U REL USA,MEX]   8 U REL USA,MEX (a candidate: never served)
 * @return VG_OK or the register's error.
 */
int vg_tsrv_register(const char *db);

#endif
