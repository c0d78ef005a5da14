/*
 * Fuzz harness: the audit chain's verifier, lib/server/audit.c (DESIGN.md
 * convention 10; the format is docs/formats/audit.md). The whole input is one
 * log, verified from memory by vg_audit_verify_mem against a fixed public key
 * (the Ed25519 key of the seed below: the committed corpus was written with
 * its secret half, so mutations start from logs that verify). Checked (abort
 * on failure):
 *  - the return is VG_OK exactly when the status is VG_AUDIT_OK, and an
 *    integrity code otherwise; the reason is a terminated string of
 *    printable ASCII that starts with "line N: " for the line reported; the
 *    counts fit the input;
 *  - OK is never said of bytes the writer did not produce with that key: a
 *    second verifier written here from the format document alone (jansson,
 *    libsodium) must agree that every line is an entry or a checkpoint, each
 *    entry's hash is its fields' BLAKE2b, seq and prev link, and the last
 *    entry is covered by a checkpoint whose Ed25519 signature over
 *    (seq, chain, time) verifies under the fixed key. Forging that needs the
 *    secret key, so an OK the second verifier refuses is a verifier bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "vigia/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed test key: seed of crypto_sign_seed_keypair (its secret key file is seed || public key). */
static const uint8_t k_seed[32] = "vigia fuzz_server_audit key 0001";

static void fail(const char *what, const vg_audit_report *r)
{
  fprintf(stderr, "fuzz_server_audit: invariant broken: %s (status %s, line %llu: %s)\n", what,
          vg_audit_status_name(r->status), (unsigned long long)r->line, r->reason);
  abort();
}

/* ---- the second verifier, from docs/formats/audit.md ---------------------------------- */

typedef struct enc {
  uint8_t b[16384];
  size_t n;
  int over;
} enc;

static void e_raw(enc *e, const void *p, size_t n)
{
  if (e->n + n > sizeof e->b) {
    e->over = 1;
    return;
  }
  memcpy(e->b + e->n, p, n);
  e->n += n;
}

static void e_u64(enc *e, uint64_t v)
{
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (56 - 8 * i));
  e_raw(e, b, 8);
}

static void e_str(enc *e, const char *s, size_t n)
{
  uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  e_raw(e, b, 4);
  e_raw(e, s, n);
}

/* A string member (its bytes and length), or NULL. */
static const char *str_of(json_t *o, const char *k, size_t *n)
{
  json_t *j = json_object_get(o, k);
  if (!json_is_string(j))
    return NULL;
  *n = json_string_length(j);
  return json_string_value(j);
}

static int hex_of(json_t *o, const char *k, uint8_t *out, size_t n)
{
  size_t len = 0;
  const char *s = str_of(o, k, &len);
  if (!s || len != 2 * n)
    return -1;
  for (size_t i = 0; i < 2 * n; i++) {
    char c = s[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0)
      return -1;
    if (i % 2 == 0)
      out[i / 2] = (uint8_t)(v << 4);
    else
      out[i / 2] |= (uint8_t)v;
  }
  return 0;
}

static int int_of(json_t *o, const char *k, long long *v)
{
  json_t *j = json_object_get(o, k);
  if (!json_is_integer(j))
    return -1;
  *v = json_integer_value(j);
  return 0;
}

/* 1 when the log checks out by the document alone, 0 otherwise. */
static int second_opinion(const uint8_t *d, size_t n, const uint8_t pk[32])
{
  static const char *const k_str[] = {"product", "version", NULL, "marking", "recipient", "egress", "decision",
                                      "reason", "policy"};
  uint64_t last = 0, covered = 0;
  uint8_t lasth[32] = {0};
  size_t pos = 0;
  enc *e = malloc(sizeof *e);
  int ok = 0;
  if (!e)
    abort();
  while (pos < n) {
    const uint8_t *nl = memchr(d + pos, '\n', n - pos);
    size_t len;
    json_t *o;
    long long v, t;
    if (!nl)
      goto done;
    len = (size_t)(nl - (d + pos));
    o = json_loadb((const char *)d + pos, len, JSON_REJECT_DUPLICATES, NULL);
    pos += len + 1;
    if (!json_is_object(o)) {
      json_decref(o);
      goto done;
    }
    if (json_object_get(o, "checkpoint")) {
      uint8_t chain[32], key[32], sig[64];
      if (json_object_size(o) != 5 || int_of(o, "checkpoint", &v) || int_of(o, "time_us", &t) ||
          hex_of(o, "chain", chain, 32) || hex_of(o, "key", key, 32) || hex_of(o, "sig", sig, 64) ||
          v < 1 || t < 0 || (uint64_t)v != last || memcmp(chain, lasth, 32) || memcmp(key, pk, 32)) {
        json_decref(o);
        goto done;
      }
      e->n = 0;
      e->over = 0;
      e_str(e, "vigia.audit.checkpoint.v1", 25);
      e_u64(e, (uint64_t)v);
      e_raw(e, chain, 32);
      e_u64(e, (uint64_t)t);
      if (crypto_sign_verify_detached(sig, e->b, e->n, pk) != 0) {
        json_decref(o);
        goto done;
      }
      covered = last;
    } else {
      uint8_t dig[32], prev[32], hash[32], h[32];
      size_t sl = 0;
      if (json_object_size(o) != 13 || int_of(o, "seq", &v) || int_of(o, "time_us", &t) ||
          hex_of(o, "bytes_blake2b", dig, 32) || hex_of(o, "prev", prev, 32) || hex_of(o, "hash", hash, 32) ||
          v < 1 || t < 0 || (uint64_t)v != last + 1 || memcmp(prev, lasth, 32)) {
        json_decref(o);
        goto done;
      }
      e->n = 0;
      e->over = 0;
      e_str(e, "vigia.audit.entry.v1", 20);
      e_u64(e, (uint64_t)v);
      e_u64(e, (uint64_t)t);
      for (size_t i = 0; i < sizeof k_str / sizeof k_str[0]; i++) {
        const char *s;
        if (!k_str[i]) {
          e_raw(e, dig, 32);
          continue;
        }
        if (!(s = str_of(o, k_str[i], &sl))) {
          json_decref(o);
          goto done;
        }
        e_str(e, s, sl);
      }
      e_raw(e, prev, 32);
      {
        size_t dl = 0;
        const char *ds = str_of(o, "decision", &dl);
        if (e->over || !ds || !((dl == 5 && !memcmp(ds, "allow", 5)) || (dl == 4 && !memcmp(ds, "deny", 4)))) {
          json_decref(o);
          goto done;
        }
      }
      crypto_generichash(h, 32, e->b, e->n, NULL, 0);
      if (memcmp(h, hash, 32)) {
        json_decref(o);
        goto done;
      }
      last = (uint64_t)v;
      memcpy(lasth, hash, 32);
    }
    json_decref(o);
  }
  ok = covered == last;
done:
  free(e);
  return ok;
}

/* ---- the harness ------------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t pk[32], sk[64];
  static int ready;
  vg_audit_report r;
  int rc;
  char want[40];
  if (!ready) {
    if (sodium_init() < 0)
      abort();
    crypto_sign_seed_keypair(pk, sk, k_seed);
    ready = 1;
  }
  rc = vg_audit_verify_mem(data, size, pk, &r);
  if (!memchr(r.reason, 0, sizeof r.reason))
    fail("an unterminated reason", &r);
  for (const char *c = r.reason; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
      fail("a reason that is not printable ASCII", &r);
  if ((rc == VG_OK) != (r.status == VG_AUDIT_OK))
    fail("the return and the status disagree", &r);
  if (r.status > VG_AUDIT_UNREADABLE)
    fail("a status out of range", &r);
  if (r.good_bytes > size || r.entries + r.checkpoints > r.lines || r.covered_seq > r.last_seq ||
      r.entries != r.last_seq)
    fail("counts that do not fit the input", &r);
  if (r.status == VG_AUDIT_OK) {
    if (r.line || r.reason[0] || r.good_bytes != size || r.uncovered || r.covered_seq != r.last_seq)
      fail("an OK with a problem attached", &r);
    if (!second_opinion(data, size, pk))
      fail("OK for a log the format document refuses", &r);
    return 0;
  }
  if (rc != VG_E_CHECKSUM && rc != VG_E_TRUNCATED && rc != VG_E_MALFORMED && rc != VG_E_LIMIT && rc != VG_E_NOMEM)
    fail("an unexpected error code", &r);
  if (r.status == VG_AUDIT_UNREADABLE && rc != VG_E_NOMEM)
    fail("unreadable memory", &r);
  if (r.status == VG_AUDIT_UNCOVERED && (r.uncovered == 0 || r.uncovered != r.last_seq - r.covered_seq))
    fail("an uncovered tail that does not count", &r);
  snprintf(want, sizeof want, "line %llu: ", (unsigned long long)r.line);
  if (r.line == 0 || strncmp(r.reason, want, strlen(want)))
    fail("a reason that does not name its line", &r);
  return 0;
}
