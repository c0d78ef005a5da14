/*
 * Internal to lib/server: what the HTTPS server (serve.c) and the CoT stream
 * (cot.c) share: the partners file and the mutual-TLS identity check of a
 * GnuTLS session (docs/formats/server.md, "Identity").
 */
#ifndef VG_SERVER_INT_H
#define VG_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "vigia/products.h"
#include "vigia/server.h"

/* One partner of the partners file. */
typedef struct vg__partner {
  char fp[65]; /* lower-case hex SHA-256 of the DER certificate */
  char name[VG_SERVER_NAME_MAX + 1];
  vg_recipient rcpt;
  int analyst;
  int revoked;
} vg__partner;

/* Reads and checks the partners file at @p path. *out: free(). */
int vg__partners_load(const char *path, vg__partner **out, size_t *n);
/* The same from memory; @p path names it in errors. */
int vg__partners_parse(const uint8_t *buf, size_t len, const char *path, vg__partner **out, size_t *n);

/*
 * The peer of an established session: its leaf certificate's SHA-256
 * fingerprint (64 lower-case hex, "" when none could be read) and whether its
 * chain verifies against the session's trust list
 * (gnutls_certificate_verify_peers2 status 0). @return 0 when it does, else -1
 * with a sentence in @p why.
 */
int vg__peer_verify(gnutls_session_t tls, char fphex[65], char *why, size_t cap);

#endif
