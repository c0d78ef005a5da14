/*
 * The audit chain of release decisions (research/sharing.md 4 "Proof"; the
 * format for readers and other implementations is docs/formats/audit.md).
 *
 * Every release decision, allow or deny, on every egress, is one entry:
 *
 *   seq        1, 2, ... without gaps
 *   time_us    UTC microseconds since 1970
 *   product    product id               version   product version
 *   digest     BLAKE2b-256 of the exact bytes sent (deny: that would have
 *              been sent; all zero when none were produced)
 *   marking    the banner             recipient  "MEX" or a certificate label
 *   egress     "export", "ogcapi", "cot", "download", "map", ...
 *   decision   allow | deny           reason     why          policy  version
 *   prev       hash of entry seq-1 (32 zero bytes for seq 1)
 *   hash       BLAKE2b-256 (unkeyed, 32 bytes) of the canonical encoding:
 *
 *     str("vigia.audit.entry.v1") u64(seq) u64(time_us) str(product)
 *     str(version) digest[32] str(marking) str(recipient) str(egress)
 *     str(decision: "allow" | "deny") str(reason) str(policy) prev[32]
 *
 *   where u64(v) is 8 bytes big-endian (time_us as two's complement) and
 *   str(s) is u32 big-endian byte length then the UTF-8 bytes. The hash is
 *   over these fields, not over the JSON text: the JSON may be reformatted
 *   (spacing, member order, escapes) without effect, any field change shows.
 *
 * Checkpoints sign the chain: every checkpoint_every entries and at close,
 *
 *   sig = Ed25519(secret key, str("vigia.audit.checkpoint.v1") u64(seq)
 *                 chain[32] u64(time_us))
 *
 * where chain is the hash of entry seq. Since each hash covers prev, one
 * signature vouches for every entry up to seq.
 *
 * Storage: one file, JSON Lines (RFC 8259 objects, one per '\n'-ended line):
 *
 *   {"seq":1,"time_us":...,"product":"...","version":"...","bytes_blake2b":"<64 hex>",
 *    "marking":"...","recipient":"...","egress":"...","decision":"allow","reason":"...",
 *    "policy":"...","prev":"<64 hex>","hash":"<64 hex>"}
 *   {"checkpoint":64,"chain":"<64 hex>","time_us":...,"key":"<64 hex>","sig":"<128 hex>"}
 *
 * Hex is lower case; members are exactly these (an unknown or repeated one
 * makes the line malformed: nothing rides along unhashed).
 *
 * Durability and concurrency: the writer holds an exclusive flock on the log
 * for its whole life (one writer at a time; a second waits or is refused) and
 * a mutex for its threads. Each line is written whole with O_APPEND, then
 * fsync'd before append returns; a failed write is rolled back with
 * ftruncate. A crash in the middle of a write can leave a last line without
 * its '\n': verify reports it (torn), open refuses to append after it, and
 * only `vigia audit repair` (vg_audit_repair) removes it, saving the bytes to
 * LOG.torn first. Entries a dead writer left after its last checkpoint are
 * not signed: open refuses them unless told to adopt them (adopt_tail),
 * because they cannot be told from entries appended by whoever could write
 * the file.
 *
 * Verification takes the expected public key (never the one in the file),
 * reads line by line, and stops at the first problem with its line number:
 * malformed line; hash not matching the fields (entry modified); seq gap,
 * repeat or prev mismatch (entry deleted, inserted, reordered); checkpoint
 * not naming the entry before it; bad signature or another key; a torn last
 * line; entries after the last checkpoint (uncovered: they could be forged,
 * and cutting them off would go unnoticed).
 *
 * What the chain cannot show by itself: a log cut back to a checkpoint (or
 * emptied) is a valid log. Keep the latest checkpoint elsewhere (the report's
 * covered_hash) or hand signed checkpoints to the partner to anchor it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "util/utf8.h"
#include "vigia/server.h"

#define SIG_BYTES 64 /* crypto_sign_BYTES */
#define CHUNK 65536  /* read size of the line reader */

static const char k_entry_tag[] = "vigia.audit.entry.v1";
static const char k_cp_tag[] = "vigia.audit.checkpoint.v1";

/* ---- small helpers ------------------------------------------------------------------------ */

static int crypto_ready(void)
{
  if (sodium_init() < 0)
    return vg_error_set(VG_E_UNSUPPORTED, "audit: libsodium failed to initialise");
  return VG_OK;
}

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void to_hex(char *dst, const uint8_t *p, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = hx[p[i] >> 4];
    dst[2 * i + 1] = hx[p[i] & 15];
  }
  dst[2 * n] = '\0';
}

static int hexval(char c, int lower_only)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (!lower_only && c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Exactly 2*n hex digits at s (len bytes) into out. @return 0 or -1 (out may be partly written). */
static int from_hex(uint8_t *out, size_t n, const char *s, size_t len, int lower_only)
{
  if (len != 2 * n)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 * i], lower_only), lo = hexval(s[2 * i + 1], lower_only);
    if (hi < 0 || lo < 0)
      return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int lock_fd(int fd, int op)
{
  int rc;
  do
    rc = flock(fd, op);
  while (rc != 0 && errno == EINTR);
  return rc;
}

/* fsync of the directory holding @p path, so a new file's name survives a crash. */
static void sync_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char dir[4096];
  int fd;
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == path)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

/* ---- the strings of an entry ------------------------------------------------------------- */

/*
 * Checks one string of @p n bytes: at most @p max bytes, non-empty when
 * @p nonempty, valid UTF-8 without control characters, and for a @p token
 * only [a-z0-9._-]. @return VG_OK, VG_E_LIMIT or VG_E_INVALID; *why says which.
 */
static int check_text(const char *s, size_t n, size_t max, int nonempty, int token, const char **why)
{
  const uint8_t *p = (const uint8_t *)s;
  if (n > max) {
    *why = "longer than its limit";
    return VG_E_LIMIT;
  }
  if (nonempty && n == 0) {
    *why = "empty";
    return VG_E_INVALID;
  }
  for (size_t i = 0; i < n;) {
    size_t l;
    /* C0, DEL and C1 (U+0080-U+009F, 0xc2 0x80-0x9f): nothing that a terminal or a log viewer obeys */
    if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xc2 && i + 1 < n && p[i + 1] < 0xa0)) {
      *why = "holds a control character";
      return VG_E_INVALID;
    }
    if (token && !((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '_' ||
                   p[i] == '-')) {
      *why = "holds a character other than a-z 0-9 . _ -";
      return VG_E_INVALID;
    }
    l = vg__util_utf8_len(p + i, n - i);
    if (l == 0) {
      *why = "is not valid UTF-8";
      return VG_E_INVALID;
    }
    i += l;
  }
  return VG_OK;
}

/* The strings of an entry, in the canonical order, with their rules. */
typedef struct text_field {
  const char *name; /* member name in the log */
  size_t max;
  int nonempty, token;
} text_field;

enum { F_PRODUCT, F_VERSION, F_MARKING, F_RECIPIENT, F_EGRESS, F_REASON, F_POLICY, NTEXT };

static const text_field k_text[NTEXT] = {
  [F_PRODUCT] = {"product", VG_AUDIT_PRODUCT_MAX, 1, 0},
  [F_VERSION] = {"version", VG_AUDIT_VERSION_MAX, 1, 0},
  [F_MARKING] = {"marking", VG_AUDIT_MARKING_MAX, 0, 0},
  [F_RECIPIENT] = {"recipient", VG_AUDIT_RECIPIENT_MAX, 1, 0},
  [F_EGRESS] = {"egress", VG_AUDIT_EGRESS_MAX, 1, 1},
  [F_REASON] = {"reason", VG_AUDIT_REASON_MAX, 0, 0},
  [F_POLICY] = {"policy", VG_AUDIT_POLICY_MAX, 1, 0},
};

static const char *entry_text(const vg_audit_entry *e, int f)
{
  switch (f) {
  case F_PRODUCT: return e->product;
  case F_VERSION: return e->version;
  case F_MARKING: return e->marking;
  case F_RECIPIENT: return e->recipient;
  case F_EGRESS: return e->egress;
  case F_REASON: return e->reason;
  default: return e->policy;
  }
}

static const char *decision_name(vg_audit_decision d) { return d == VG_AUDIT_ALLOW ? "allow" : "deny"; }

/* Everything append and the hash need of an entry's caller-set fields. */
static int check_entry(const vg_audit_entry *e)
{
  const char *why = "";
  if (!e)
    return vg_error_set(VG_E_INVALID, "audit: no entry");
  if (e->decision != VG_AUDIT_ALLOW && e->decision != VG_AUDIT_DENY)
    return vg_error_set(VG_E_INVALID, "audit: decision %d is neither allow nor deny", (int)e->decision);
  if (e->time_us < 0)
    return vg_error_set(VG_E_INVALID, "audit: time_us %lld is before 1970", (long long)e->time_us);
  for (int f = 0; f < NTEXT; f++) {
    const char *s = entry_text(e, f);
    int rc;
    if (!s)
      return vg_error_set(VG_E_INVALID, "audit: entry %s is NULL", k_text[f].name);
    rc = check_text(s, strlen(s), k_text[f].max, k_text[f].nonempty, k_text[f].token, &why);
    if (rc != VG_OK)
      return vg_error_set(rc, "audit: entry %s %s (limit %zu bytes)", k_text[f].name, why, k_text[f].max);
  }
  return VG_OK;
}

/* ---- canonical encodings ----------------------------------------------------------------- */

static void put_u64(uint8_t *b, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void h_u64(crypto_generichash_state *st, uint64_t v)
{
  uint8_t b[8];
  put_u64(b, v);
  crypto_generichash_update(st, b, 8);
}

static void h_str(crypto_generichash_state *st, const char *s, size_t n)
{
  uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  crypto_generichash_update(st, b, 4);
  crypto_generichash_update(st, (const uint8_t *)s, n);
}

/* The hash of an entry whose strings were checked (lengths fit in u32: they are bounded). */
static void hash_entry(const vg_audit_entry *e, uint8_t out[VG_AUDIT_HASH_BYTES])
{
  crypto_generichash_state st;
  const char *d = decision_name(e->decision);
  crypto_generichash_init(&st, NULL, 0, VG_AUDIT_HASH_BYTES);
  h_str(&st, k_entry_tag, sizeof k_entry_tag - 1);
  h_u64(&st, e->seq);
  h_u64(&st, (uint64_t)e->time_us);
  h_str(&st, e->product, strlen(e->product));
  h_str(&st, e->version, strlen(e->version));
  crypto_generichash_update(&st, e->digest, VG_AUDIT_HASH_BYTES);
  h_str(&st, e->marking, strlen(e->marking));
  h_str(&st, e->recipient, strlen(e->recipient));
  h_str(&st, e->egress, strlen(e->egress));
  h_str(&st, d, strlen(d));
  h_str(&st, e->reason, strlen(e->reason));
  h_str(&st, e->policy, strlen(e->policy));
  crypto_generichash_update(&st, e->prev, VG_AUDIT_HASH_BYTES);
  crypto_generichash_final(&st, out, VG_AUDIT_HASH_BYTES);
}

#define CP_MSG_LEN (4 + sizeof k_cp_tag - 1 + 8 + VG_AUDIT_HASH_BYTES + 8)

/* The message a checkpoint signs; @return its length (CP_MSG_LEN). */
static size_t cp_message(uint8_t m[CP_MSG_LEN], uint64_t seq, const uint8_t chain[VG_AUDIT_HASH_BYTES],
                         int64_t time_us)
{
  size_t n = sizeof k_cp_tag - 1, o = 0;
  m[o++] = (uint8_t)(n >> 24);
  m[o++] = (uint8_t)(n >> 16);
  m[o++] = (uint8_t)(n >> 8);
  m[o++] = (uint8_t)n;
  memcpy(m + o, k_cp_tag, n);
  o += n;
  put_u64(m + o, seq);
  o += 8;
  memcpy(m + o, chain, VG_AUDIT_HASH_BYTES);
  o += VG_AUDIT_HASH_BYTES;
  put_u64(m + o, (uint64_t)time_us);
  return o + 8;
}

void vg_audit_digest(const void *p, size_t n, uint8_t out[VG_AUDIT_HASH_BYTES])
{
  (void)crypto_ready();
  crypto_generichash(out, VG_AUDIT_HASH_BYTES, (const uint8_t *)(n ? p : ""), n, NULL, 0);
}

int vg_audit_digest_file(const char *path, uint8_t out[VG_AUDIT_HASH_BYTES])
{
  crypto_generichash_state st;
  uint8_t *buf = NULL;
  int fd = -1, rc;
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  if (!path || !out)
    return vg_error_set(VG_E_INVALID, "audit: digest of no file");
  if (!(buf = malloc(CHUNK)))
    return vg_error_set(VG_E_NOMEM, "audit: digest of '%s'", path);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = vg_error_set(VG_E_IO, "audit: cannot open '%s': %s", path, strerror(errno));
    goto done;
  }
  crypto_generichash_init(&st, NULL, 0, VG_AUDIT_HASH_BYTES);
  for (;;) {
    ssize_t got = read(fd, buf, CHUNK);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      rc = vg_error_set(VG_E_IO, "audit: cannot read '%s': %s", path, strerror(errno));
      goto done;
    }
    if (got == 0)
      break;
    crypto_generichash_update(&st, buf, (size_t)got);
  }
  crypto_generichash_final(&st, out, VG_AUDIT_HASH_BYTES);
  rc = VG_OK;
done:
  if (fd >= 0)
    close(fd);
  free(buf);
  return rc;
}

int vg_audit_entry_hash(const vg_audit_entry *e, uint8_t out[VG_AUDIT_HASH_BYTES])
{
  int rc;
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  if ((rc = check_entry(e)) != VG_OK)
    return rc;
  hash_entry(e, out);
  return VG_OK;
}

/* ---- lines ------------------------------------------------------------------------------- */

/*
 * The JSON line of an entry (with its '\n') into @p b, written directly (it is formatted for
 * every release decision, under the writer's mutex): the same bytes vg_jw would write. The
 * strings passed check_entry (valid UTF-8, no control characters), so only '"' and '\'
 * need escaping; anything below U+0020 is escaped all the same should one ever get here.
 */
static char *fe_lit(char *p, const char *lit)
{
  size_t n = strlen(lit);
  memcpy(p, lit, n);
  return p + n;
}

static char *fe_str(char *p, const char *s)
{
  static const char hx[] = "0123456789abcdef";
  *p++ = '"';
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      p = fe_lit(p, "\\u00");
      *p++ = hx[c >> 4];
      *p++ = hx[c & 15];
    } else
      *p++ = (char)c;
  }
  *p++ = '"';
  return p;
}

/* Bytes fe_str writes for @p s, quotes included. */
static size_t fe_len(const char *s)
{
  size_t n = 2;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    n += (c == '"' || c == '\\') ? 2 : (c < 0x20 || c == 0x7f) ? 6 : 1;
  }
  return n;
}

static char *fe_hex(char *p, const uint8_t *h, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  *p++ = '"';
  for (size_t i = 0; i < n; i++) {
    *p++ = hx[h[i] >> 4];
    *p++ = hx[h[i] & 15];
  }
  *p++ = '"';
  return p;
}

static char *fe_u64(char *p, uint64_t v)
{
  char t[24];
  size_t k = 0;
  do {
    t[k++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (k)
    *p++ = t[--k];
  return p;
}

static int format_entry(vg_buf *b, const vg_audit_entry *e)
{
  const char *text[] = {e->product, e->version, e->marking, e->recipient, e->egress, e->reason, e->policy};
  size_t need = 160 + 3 * (2 + 2 * VG_AUDIT_HASH_BYTES) + 2 * 20 + 7; /* keys, hashes, numbers, decision */
  char *p;
  int rc;
  for (size_t i = 0; i < sizeof text / sizeof *text; i++)
    need += fe_len(text[i]);
  vg_buf_reset(b);
  if ((rc = vg_buf_reserve(b, need)) != VG_OK)
    return rc;
  p = (char *)b->data;
  p = fe_lit(p, "{\"seq\":");
  p = fe_u64(p, e->seq);
  p = fe_lit(p, ",\"time_us\":");
  if (e->time_us < 0) {
    *p++ = '-';
    p = fe_u64(p, 0 - (uint64_t)e->time_us);
  } else
    p = fe_u64(p, (uint64_t)e->time_us);
  p = fe_lit(p, ",\"product\":");
  p = fe_str(p, e->product);
  p = fe_lit(p, ",\"version\":");
  p = fe_str(p, e->version);
  p = fe_lit(p, ",\"bytes_blake2b\":");
  p = fe_hex(p, e->digest, VG_AUDIT_HASH_BYTES);
  p = fe_lit(p, ",\"marking\":");
  p = fe_str(p, e->marking);
  p = fe_lit(p, ",\"recipient\":");
  p = fe_str(p, e->recipient);
  p = fe_lit(p, ",\"egress\":");
  p = fe_str(p, e->egress);
  p = fe_lit(p, ",\"decision\":");
  p = fe_str(p, decision_name(e->decision));
  p = fe_lit(p, ",\"reason\":");
  p = fe_str(p, e->reason);
  p = fe_lit(p, ",\"policy\":");
  p = fe_str(p, e->policy);
  p = fe_lit(p, ",\"prev\":");
  p = fe_hex(p, e->prev, VG_AUDIT_HASH_BYTES);
  p = fe_lit(p, ",\"hash\":");
  p = fe_hex(p, e->hash, VG_AUDIT_HASH_BYTES);
  p = fe_lit(p, "}\n");
  b->len = (size_t)(p - (char *)b->data);
  b->data[b->len] = 0;
  return VG_OK;
}

static int format_checkpoint(vg_buf *b, uint64_t seq, const uint8_t *chain, int64_t time_us, const uint8_t *key,
                             const uint8_t *sig)
{
  vg_jw w;
  int rc;
  vg_buf_reset(b);
  vg_jw_init(&w, b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "checkpoint");
  vg_jw_uint(&w, seq);
  vg_jw_key(&w, "chain");
  vg_jw_hex(&w, chain, VG_AUDIT_HASH_BYTES);
  vg_jw_key(&w, "time_us");
  vg_jw_int(&w, time_us);
  vg_jw_key(&w, "key");
  vg_jw_hex(&w, key, VG_AUDIT_PUB_BYTES);
  vg_jw_key(&w, "sig");
  vg_jw_hex(&w, sig, SIG_BYTES);
  vg_jw_obj_end(&w);
  if ((rc = vg_jw_finish(&w)) != VG_OK)
    return rc;
  return vg_buf_putc(b, '\n');
}

/* One parsed line. The strings are copies (jansson's are freed with the line). */
typedef struct rec {
  int kind; /* 1 entry, 2 checkpoint */
  uint64_t seq;
  int64_t time_us;
  char text[NTEXT][VG_AUDIT_REASON_MAX + 1]; /* the largest limit fits them all */
  uint8_t digest[VG_AUDIT_HASH_BYTES], prev[VG_AUDIT_HASH_BYTES], hash[VG_AUDIT_HASH_BYTES];
  vg_audit_decision decision;
  uint8_t key[VG_AUDIT_PUB_BYTES], sig[SIG_BYTES];
} rec;

static const char *const k_entry_members[] = {"seq", "time_us", "product", "version", "bytes_blake2b",
                                              "marking", "recipient", "egress", "decision", "reason",
                                              "policy", "prev", "hash"};
static const char *const k_cp_members[] = {"checkpoint", "chain", "time_us", "key", "sig"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An integer member >= @p min. @return 0, or -1 with *why set. */
static int get_int(json_t *o, const char *k, long long min, long long *v, char *why, size_t cap)
{
  json_t *j = json_object_get(o, k);
  if (!json_is_integer(j)) {
    snprintf(why, cap, "\"%s\" is not an integer", k);
    return -1;
  }
  *v = json_integer_value(j);
  if (*v < min) {
    snprintf(why, cap, "\"%s\" is %lld, below %lld", k, *v, min);
    return -1;
  }
  return 0;
}

static int get_hex(json_t *o, const char *k, uint8_t *out, size_t n, char *why, size_t cap)
{
  json_t *j = json_object_get(o, k);
  if (!json_is_string(j) || from_hex(out, n, json_string_value(j), json_string_length(j), 1) != 0) {
    snprintf(why, cap, "\"%s\" is not %zu lower-case hex digits", k, 2 * n);
    return -1;
  }
  return 0;
}

/* Exactly the members @p names (duplicates were refused by the parser). */
static int has_members(json_t *o, const char *const *names, size_t n, const char *what, char *why, size_t cap)
{
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v)
  {
    size_t i;
    (void)v;
    for (i = 0; i < n && strcmp(k, names[i]); i++)
      ;
    if (i == n) {
      snprintf(why, cap, "%s with an unknown member \"%.40s\"", what, k);
      return -1;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (!json_object_get(o, names[i])) {
      snprintf(why, cap, "%s without \"%s\"", what, names[i]);
      return -1;
    }
  return 0;
}

/* Parses one line (without its '\n'). @return 0, or -1 with *why saying what is wrong. */
static int parse_line(const char *line, size_t len, rec *r, char *why, size_t cap)
{
  json_error_t jerr;
  json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
  int ret = -1;
  long long v;
  if (!o) {
    snprintf(why, cap, "not JSON (%.80s, column %d)", jerr.text, jerr.column);
    return -1;
  }
  if (!json_is_object(o)) {
    snprintf(why, cap, "not a JSON object");
    goto done;
  }
  if (json_object_get(o, "checkpoint")) {
    r->kind = 2;
    if (has_members(o, k_cp_members, NELEM(k_cp_members), "a checkpoint", why, cap) ||
        get_int(o, "checkpoint", 1, &v, why, cap))
      goto done;
    r->seq = (uint64_t)v;
    if (get_int(o, "time_us", 0, &v, why, cap))
      goto done;
    r->time_us = v;
    if (get_hex(o, "chain", r->hash, VG_AUDIT_HASH_BYTES, why, cap) ||
        get_hex(o, "key", r->key, VG_AUDIT_PUB_BYTES, why, cap) || get_hex(o, "sig", r->sig, SIG_BYTES, why, cap))
      goto done;
    ret = 0;
    goto done;
  }
  r->kind = 1;
  if (has_members(o, k_entry_members, NELEM(k_entry_members), "an entry", why, cap) ||
      get_int(o, "seq", 1, &v, why, cap))
    goto done;
  r->seq = (uint64_t)v;
  if (get_int(o, "time_us", 0, &v, why, cap))
    goto done;
  r->time_us = v;
  for (int f = 0; f < NTEXT; f++) {
    json_t *j = json_object_get(o, k_text[f].name);
    const char *w = "";
    size_t n;
    if (!json_is_string(j)) {
      snprintf(why, cap, "\"%s\" is not a string", k_text[f].name);
      goto done;
    }
    n = json_string_length(j);
    /* jansson refuses \u0000 without JSON_ALLOW_NUL, so the value has no NUL inside */
    if (check_text(json_string_value(j), n, k_text[f].max, k_text[f].nonempty, k_text[f].token, &w) != VG_OK) {
      snprintf(why, cap, "\"%s\" %s (limit %zu bytes)", k_text[f].name, w, k_text[f].max);
      goto done;
    }
    memcpy(r->text[f], json_string_value(j), n);
    r->text[f][n] = '\0';
  }
  {
    json_t *d = json_object_get(o, "decision");
    const char *ds = json_string_value(d);
    if (ds && !strcmp(ds, "allow") && json_string_length(d) == 5) {
      r->decision = VG_AUDIT_ALLOW;
    } else if (ds && !strcmp(ds, "deny") && json_string_length(d) == 4) {
      r->decision = VG_AUDIT_DENY;
    } else {
      snprintf(why, cap, "\"decision\" is neither \"allow\" nor \"deny\"");
      goto done;
    }
  }
  if (get_hex(o, "bytes_blake2b", r->digest, VG_AUDIT_HASH_BYTES, why, cap) ||
      get_hex(o, "prev", r->prev, VG_AUDIT_HASH_BYTES, why, cap) ||
      get_hex(o, "hash", r->hash, VG_AUDIT_HASH_BYTES, why, cap))
    goto done;
  ret = 0;
done:
  json_decref(o);
  return ret;
}

static void rec_entry(const rec *r, vg_audit_entry *e)
{
  memset(e, 0, sizeof *e);
  e->seq = r->seq;
  e->time_us = r->time_us;
  e->product = r->text[F_PRODUCT];
  e->version = r->text[F_VERSION];
  e->marking = r->text[F_MARKING];
  e->recipient = r->text[F_RECIPIENT];
  e->egress = r->text[F_EGRESS];
  e->reason = r->text[F_REASON];
  e->policy = r->text[F_POLICY];
  e->decision = r->decision;
  memcpy(e->digest, r->digest, VG_AUDIT_HASH_BYTES);
  memcpy(e->prev, r->prev, VG_AUDIT_HASH_BYTES);
  memcpy(e->hash, r->hash, VG_AUDIT_HASH_BYTES);
}

/* ---- the line source (a file descriptor or memory) --------------------------------------- */

typedef struct src {
  int fd;             /* -1: memory */
  uint64_t fd_off;    /* next pread offset */
  const uint8_t *mem; /* memory source */
  size_t memlen, mempos;
  uint8_t *chunk; /* CHUNK bytes */
  size_t cpos, clen;
  char *line; /* VG_AUDIT_LINE_MAX + 1 bytes */
} src;

static int refill(src *s)
{
  if (s->fd < 0) {
    size_t n = s->memlen - s->mempos;
    if (n > CHUNK)
      n = CHUNK;
    if (n)
      memcpy(s->chunk, s->mem + s->mempos, n);
    s->mempos += n;
    s->cpos = 0;
    s->clen = n;
    return VG_OK;
  }
  for (;;) {
    ssize_t got = pread(s->fd, s->chunk, CHUNK, (off_t)s->fd_off);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return VG_E_IO;
    s->fd_off += (uint64_t)got;
    s->cpos = 0;
    s->clen = (size_t)got;
    return VG_OK;
  }
}

/*
 * The next line into s->line (without '\n', NUL-terminated), @p len bytes.
 * @return 1 a complete line, 2 a last line without '\n', 0 the end,
 * VG_E_LIMIT a line longer than VG_AUDIT_LINE_MAX, VG_E_IO.
 */
static int next_line(src *s, size_t *len)
{
  size_t n = 0;
  for (;;) {
    uint8_t *nl;
    size_t take;
    if (s->cpos == s->clen) {
      if (refill(s) != VG_OK)
        return VG_E_IO;
      if (s->clen == 0) {
        *len = n;
        s->line[n] = '\0';
        return n ? 2 : 0;
      }
    }
    nl = memchr(s->chunk + s->cpos, '\n', s->clen - s->cpos);
    take = nl ? (size_t)(nl - (s->chunk + s->cpos)) : s->clen - s->cpos;
    if (n + take > VG_AUDIT_LINE_MAX)
      return VG_E_LIMIT;
    memcpy(s->line + n, s->chunk + s->cpos, take);
    n += take;
    s->cpos += take;
    if (nl) {
      s->cpos++;
      *len = n;
      s->line[n] = '\0';
      return 1;
    }
  }
}

/* ---- verification ------------------------------------------------------------------------ */

const char *vg_audit_status_name(vg_audit_status s)
{
  switch (s) {
  case VG_AUDIT_OK: return "ok";
  case VG_AUDIT_UNCOVERED: return "uncovered";
  case VG_AUDIT_TORN: return "torn";
  case VG_AUDIT_MALFORMED: return "malformed";
  case VG_AUDIT_MODIFIED: return "modified";
  case VG_AUDIT_LINK: return "link";
  case VG_AUDIT_CHECKPOINT: return "checkpoint";
  case VG_AUDIT_SIGNATURE: return "signature";
  case VG_AUDIT_UNREADABLE: return "unreadable";
  }
  return "unknown";
}

/* Records the first problem in @p r; @return the error code for it. */
static int verdict(vg_audit_report *r, vg_audit_status st, int code, uint64_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int verdict(vg_audit_report *r, vg_audit_status st, int code, uint64_t line, const char *fmt, ...)
{
  va_list ap;
  int n;
  r->status = st;
  r->line = line;
  n = snprintf(r->reason, sizeof r->reason, "line %llu: ", (unsigned long long)line);
  if (n < 0 || (size_t)n >= sizeof r->reason)
    n = 0;
  va_start(ap, fmt);
  vsnprintf(r->reason + n, sizeof r->reason - (size_t)n, fmt, ap);
  va_end(ap);
  /* the reason may quote the input (a member name, jansson's "near '...'"): printable ASCII only,
   * so that showing it on a terminal cannot be an escape sequence */
  for (char *c = r->reason; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
      *c = '?';
  return code;
}

/* Short key prefix for messages. */
static const char *key_short(char buf[20], const uint8_t *key)
{
  char hx[2 * VG_AUDIT_PUB_BYTES + 1];
  to_hex(hx, key, VG_AUDIT_PUB_BYTES);
  snprintf(buf, 20, "%.16s...", hx);
  return buf;
}

/*
 * Reads every line of @p s and checks it (module comment). @p pub NULL: the
 * signatures against the log's own key. @p fn (may be NULL) gets the allow
 * entries for @p recipient (NULL: all). @return VG_OK or the verdict's code;
 * r->status says which.
 */
static int scan(src *s, const uint8_t *pub, const char *recipient, vg_audit_entry_fn fn, void *ud,
                vg_audit_report *r)
{
  rec *cur = NULL;
  uint64_t first_uncovered = 0;
  char why[256];
  int rc = VG_OK;

  memset(r, 0, sizeof *r);
  if (!(s->chunk = malloc(CHUNK)) || !(s->line = malloc(VG_AUDIT_LINE_MAX + 1)) || !(cur = malloc(sizeof *cur))) {
    rc = verdict(r, VG_AUDIT_UNREADABLE, VG_E_NOMEM, 1, "out of memory");
    goto done;
  }
  for (;;) {
    uint64_t ln = r->lines + 1;
    size_t len = 0;
    int got = next_line(s, &len);
    if (got == 0)
      break;
    if (got == VG_E_IO) {
      rc = verdict(r, VG_AUDIT_UNREADABLE, VG_E_IO, ln, "read error: %s", strerror(errno));
      goto done;
    }
    if (got == VG_E_LIMIT) {
      rc = verdict(r, VG_AUDIT_MALFORMED, VG_E_LIMIT, ln, "longer than %d bytes: not a line of the writer",
                   VG_AUDIT_LINE_MAX);
      goto done;
    }
    if (got == 2) {
      rc = verdict(r, VG_AUDIT_TORN, VG_E_TRUNCATED, ln,
                   "truncated entry: the last line (%zu bytes) ends without a newline: a write torn by a "
                   "crash or a file cut short (`vigia audit repair` removes it)",
                   len);
      goto done;
    }
    r->lines = ln;
    memset(cur, 0, sizeof *cur);
    if (parse_line(s->line, len, cur, why, sizeof why) != 0) {
      rc = verdict(r, VG_AUDIT_MALFORMED, VG_E_MALFORMED, ln, "malformed: %s", why);
      goto done;
    }
    if (cur->kind == 1) {
      vg_audit_entry e;
      uint8_t h[VG_AUDIT_HASH_BYTES];
      rec_entry(cur, &e);
      hash_entry(&e, h);
      if (sodium_memcmp(h, cur->hash, VG_AUDIT_HASH_BYTES) != 0) {
        rc = verdict(r, VG_AUDIT_MODIFIED, VG_E_CHECKSUM, ln,
                     "entry seq %llu: its hash does not match its fields: the entry was modified",
                     (unsigned long long)cur->seq);
        goto done;
      }
      if (cur->seq <= r->last_seq) {
        rc = verdict(r, VG_AUDIT_LINK, VG_E_CHECKSUM, ln,
                     "entry seq %llu comes after seq %llu: an entry was duplicated, inserted or reordered",
                     (unsigned long long)cur->seq, (unsigned long long)r->last_seq);
        goto done;
      }
      if (cur->seq != r->last_seq + 1) {
        rc = verdict(r, VG_AUDIT_LINK, VG_E_CHECKSUM, ln,
                     "entry seq %llu comes after seq %llu: entries are missing (deleted) or reordered",
                     (unsigned long long)cur->seq, (unsigned long long)r->last_seq);
        goto done;
      }
      if (sodium_memcmp(cur->prev, r->last_hash, VG_AUDIT_HASH_BYTES) != 0) {
        rc = verdict(r, VG_AUDIT_LINK, VG_E_CHECKSUM, ln,
                     "entry seq %llu: prev is not the hash of the entry before it: an entry was replaced, "
                     "inserted or deleted",
                     (unsigned long long)cur->seq);
        goto done;
      }
      r->last_seq = cur->seq;
      memcpy(r->last_hash, cur->hash, VG_AUDIT_HASH_BYTES);
      r->entries++;
      if (r->last_seq == r->covered_seq + 1)
        first_uncovered = ln;
      if (fn && e.decision == VG_AUDIT_ALLOW && (!recipient || !strcmp(recipient, e.recipient))) {
        int crc = fn(&e, ln, ud);
        if (crc != VG_OK) {
          rc = crc;
          goto done;
        }
      }
    } else {
      uint8_t m[CP_MSG_LEN];
      size_t mlen;
      char kb[2][20];
      if (r->entries == 0) {
        rc = verdict(r, VG_AUDIT_CHECKPOINT, VG_E_CHECKSUM, ln, "checkpoint %llu before any entry",
                     (unsigned long long)cur->seq);
        goto done;
      }
      if (cur->seq != r->last_seq) {
        rc = verdict(r, VG_AUDIT_CHECKPOINT, VG_E_CHECKSUM, ln,
                     "checkpoint %llu follows entry seq %llu: entries were deleted, inserted or reordered",
                     (unsigned long long)cur->seq, (unsigned long long)r->last_seq);
        goto done;
      }
      if (sodium_memcmp(cur->hash, r->last_hash, VG_AUDIT_HASH_BYTES) != 0) {
        rc = verdict(r, VG_AUDIT_CHECKPOINT, VG_E_CHECKSUM, ln,
                     "checkpoint %llu: its chain hash is not the hash of entry seq %llu",
                     (unsigned long long)cur->seq, (unsigned long long)r->last_seq);
        goto done;
      }
      if (pub && sodium_memcmp(cur->key, pub, VG_AUDIT_PUB_BYTES) != 0) {
        rc = verdict(r, VG_AUDIT_SIGNATURE, VG_E_CHECKSUM, ln,
                     "checkpoint %llu is signed by key %s, not the expected key %s", (unsigned long long)cur->seq,
                     key_short(kb[0], cur->key), key_short(kb[1], pub));
        goto done;
      }
      if (!pub && r->checkpoints > 0 && sodium_memcmp(cur->key, r->key, VG_AUDIT_PUB_BYTES) != 0) {
        rc = verdict(r, VG_AUDIT_SIGNATURE, VG_E_CHECKSUM, ln,
                     "checkpoint %llu is signed by key %s, not the key %s of the earlier checkpoints",
                     (unsigned long long)cur->seq, key_short(kb[0], cur->key), key_short(kb[1], r->key));
        goto done;
      }
      mlen = cp_message(m, cur->seq, cur->hash, cur->time_us);
      if (crypto_sign_verify_detached(cur->sig, m, mlen, cur->key) != 0) {
        rc = verdict(r, VG_AUDIT_SIGNATURE, VG_E_CHECKSUM, ln, "checkpoint %llu: bad signature",
                     (unsigned long long)cur->seq);
        goto done;
      }
      memcpy(r->key, cur->key, VG_AUDIT_PUB_BYTES);
      r->covered_seq = r->last_seq;
      memcpy(r->covered_hash, r->last_hash, VG_AUDIT_HASH_BYTES);
      r->checkpoints++;
    }
    r->good_bytes += len + 1;
  }
  if (r->last_seq > r->covered_seq) {
    uint64_t n = r->last_seq - r->covered_seq;
    r->uncovered = n;
    rc = verdict(r, VG_AUDIT_UNCOVERED, VG_E_CHECKSUM, first_uncovered,
                 "%llu %s (seq %llu to %llu) after the last checkpoint: no signature covers %s, so %s could "
                 "be forged, and cutting %s off would go unnoticed",
                 (unsigned long long)n, n == 1 ? "entry" : "entries", (unsigned long long)r->covered_seq + 1,
                 (unsigned long long)r->last_seq, n == 1 ? "it" : "them", n == 1 ? "it" : "they",
                 n == 1 ? "it" : "them");
    goto done;
  }
  r->status = VG_AUDIT_OK;
  rc = VG_OK;
done:
  free(cur);
  free(s->chunk);
  free(s->line);
  s->chunk = NULL;
  s->line = NULL;
  return rc;
}

/* Opens @p path and scans it; the thread's error message names the log. */
static int scan_path(const char *path, const uint8_t *pub, const char *recipient, vg_audit_entry_fn fn, void *ud,
                     vg_audit_report *r)
{
  src s;
  int rc;
  memset(&s, 0, sizeof s);
  memset(r, 0, sizeof *r);
  s.fd = open(path, O_RDONLY | O_CLOEXEC);
  if (s.fd < 0) {
    r->status = VG_AUDIT_UNREADABLE;
    snprintf(r->reason, sizeof r->reason, "cannot open: %s", strerror(errno));
    return vg_error_set(VG_E_IO, "audit log '%s': %s", path, r->reason);
  }
  rc = scan(&s, pub, recipient, fn, ud, r);
  close(s.fd);
  if (rc != VG_OK && r->status != VG_AUDIT_OK)
    vg_error_set(rc, "audit log '%s': %s", path, r->reason);
  return rc;
}

int vg_audit_verify(const char *path, const uint8_t pub[VG_AUDIT_PUB_BYTES], vg_audit_report *r)
{
  int rc;
  if (!r)
    return vg_error_set(VG_E_INVALID, "audit verify: no report");
  memset(r, 0, sizeof *r);
  if (!path || !pub) {
    r->status = VG_AUDIT_UNREADABLE;
    snprintf(r->reason, sizeof r->reason, "no log or no expected public key");
    return vg_error_set(VG_E_INVALID, "audit verify: no log or no expected public key");
  }
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  return scan_path(path, pub, NULL, NULL, NULL, r);
}

int vg_audit_verify_mem(const uint8_t *buf, size_t len, const uint8_t pub[VG_AUDIT_PUB_BYTES], vg_audit_report *r)
{
  src s;
  int rc;
  if (!r)
    return vg_error_set(VG_E_INVALID, "audit verify: no report");
  memset(r, 0, sizeof *r);
  if ((!buf && len) || !pub) {
    r->status = VG_AUDIT_UNREADABLE;
    snprintf(r->reason, sizeof r->reason, "no log or no expected public key");
    return vg_error_set(VG_E_INVALID, "audit verify: no log or no expected public key");
  }
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  memset(&s, 0, sizeof s);
  s.fd = -1;
  s.mem = buf;
  s.memlen = len;
  rc = scan(&s, pub, NULL, NULL, NULL, r);
  if (rc != VG_OK && r->status != VG_AUDIT_OK)
    vg_error_set(rc, "audit log in memory: %s", r->reason);
  return rc;
}

int vg_audit_replay(const char *path, const uint8_t pub[VG_AUDIT_PUB_BYTES], const char *recipient,
                    vg_audit_entry_fn fn, void *ud, vg_audit_report *r)
{
  int rc;
  if (!r)
    return vg_error_set(VG_E_INVALID, "audit replay: no report");
  memset(r, 0, sizeof *r);
  if (!path || !fn) {
    r->status = VG_AUDIT_UNREADABLE;
    snprintf(r->reason, sizeof r->reason, "no log or no callback");
    return vg_error_set(VG_E_INVALID, "audit replay: no log or no callback");
  }
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  return scan_path(path, pub, recipient, fn, ud, r);
}

/* ---- keys -------------------------------------------------------------------------------- */

static int read_exact(int fd, uint8_t *p, size_t n)
{
  while (n) {
    ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* The secret key at @p path: a regular file of 64 bytes, unreadable by others, a real Ed25519 key. */
static int load_secret(const char *path, uint8_t sk[VG_AUDIT_SECRET_BYTES], uint8_t pk[VG_AUDIT_PUB_BYTES])
{
  struct stat st;
  uint8_t pk2[VG_AUDIT_PUB_BYTES], sk2[VG_AUDIT_SECRET_BYTES];
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc = VG_OK;
  if (fd < 0)
    return vg_error_set(VG_E_IO, "audit key '%s': cannot open: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = vg_error_set(VG_E_INVALID, "audit key '%s': not a regular file", path);
    goto done;
  }
  if (st.st_mode & 077) {
    rc = vg_error_set(VG_E_DENIED, "audit key '%s': readable or writable by others (mode %03o): chmod 600 it",
                      path, (unsigned)(st.st_mode & 0777));
    goto done;
  }
  if (st.st_size != VG_AUDIT_SECRET_BYTES) {
    rc = vg_error_set(VG_E_MALFORMED, "audit key '%s': %lld bytes, an Ed25519 secret key file has %d", path,
                      (long long)st.st_size, VG_AUDIT_SECRET_BYTES);
    goto done;
  }
  if (read_exact(fd, sk, VG_AUDIT_SECRET_BYTES) != 0) {
    rc = vg_error_set(VG_E_IO, "audit key '%s': cannot read", path);
    goto done;
  }
  /* libsodium's secret key is seed || public key: both halves must agree */
  crypto_sign_seed_keypair(pk2, sk2, sk);
  if (sodium_memcmp(pk2, sk + 32, VG_AUDIT_PUB_BYTES) != 0) {
    rc = vg_error_set(VG_E_MALFORMED, "audit key '%s': not an Ed25519 secret key (halves disagree)", path);
    goto done;
  }
  memcpy(pk, pk2, VG_AUDIT_PUB_BYTES);
done:
  sodium_memzero(sk2, sizeof sk2);
  if (rc != VG_OK)
    sodium_memzero(sk, VG_AUDIT_SECRET_BYTES);
  close(fd);
  return rc;
}

int vg_audit_keygen(const char *path, char pub_hex_out[2 * VG_AUDIT_PUB_BYTES + 1])
{
  uint8_t pk[VG_AUDIT_PUB_BYTES], sk[VG_AUDIT_SECRET_BYTES];
  char hx[2 * VG_AUDIT_PUB_BYTES + 2], *pubpath = NULL;
  struct stat st;
  int fd = -1, rc;
  size_t n;
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  if (!path || !*path)
    return vg_error_set(VG_E_INVALID, "audit keygen: no key path");
  n = strlen(path) + 5;
  if (!(pubpath = malloc(n)))
    return vg_error_set(VG_E_NOMEM, "audit keygen");
  snprintf(pubpath, n, "%s.pub", path);
  if (stat(pubpath, &st) == 0) {
    rc = vg_error_set(VG_E_INVALID, "audit keygen: '%s' exists: refusing to overwrite a key", pubpath);
    goto done;
  }
  crypto_sign_keypair(pk, sk);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    rc = vg_error_set(errno == EEXIST ? VG_E_INVALID : VG_E_IO, "audit keygen: cannot create '%s': %s%s", path,
                      strerror(errno), errno == EEXIST ? " (refusing to overwrite a key)" : "");
    goto done;
  }
  if (write_all(fd, sk, sizeof sk) != 0 || fsync(fd) != 0) {
    rc = vg_error_set(VG_E_IO, "audit keygen: cannot write '%s': %s", path, strerror(errno));
    close(fd);
    unlink(path);
    goto done;
  }
  close(fd);
  to_hex(hx, pk, sizeof pk);
  fd = open(pubpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  hx[2 * VG_AUDIT_PUB_BYTES] = '\n';
  if (fd < 0 || write_all(fd, (const uint8_t *)hx, 2 * VG_AUDIT_PUB_BYTES + 1) != 0 || fsync(fd) != 0) {
    rc = vg_error_set(VG_E_IO, "audit keygen: cannot write '%s': %s", pubpath, strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(pubpath);
    }
    unlink(path);
    goto done;
  }
  close(fd);
  sync_dir(path);
  hx[2 * VG_AUDIT_PUB_BYTES] = '\0';
  if (pub_hex_out)
    memcpy(pub_hex_out, hx, 2 * VG_AUDIT_PUB_BYTES + 1);
  rc = VG_OK;
done:
  sodium_memzero(sk, sizeof sk);
  free(pubpath);
  return rc;
}

int vg_audit_pub_load(const char *path, uint8_t pub[VG_AUDIT_PUB_BYTES])
{
  char buf[256];
  size_t n = 0, a = 0, b;
  FILE *f;
  if (!path || !pub)
    return vg_error_set(VG_E_INVALID, "audit: no public key file");
  if (!(f = fopen(path, "rb")))
    return vg_error_set(VG_E_IO, "audit public key '%s': cannot open: %s", path, strerror(errno));
  n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  b = n;
  while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
    a++;
  while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\n' || buf[b - 1] == '\r'))
    b--;
  if (n == sizeof buf || from_hex(pub, VG_AUDIT_PUB_BYTES, buf + a, b - a, 0) != 0)
    return vg_error_set(VG_E_MALFORMED, "audit public key '%s': not %d hex digits", path,
                        2 * VG_AUDIT_PUB_BYTES);
  return VG_OK;
}

/* ---- the writer -------------------------------------------------------------------------- */

struct vg_audit {
  pthread_mutex_t mu;
  int fd;
  char *path;
  uint8_t sk[VG_AUDIT_SECRET_BYTES], pk[VG_AUDIT_PUB_BYTES];
  vg_audit_opts o;
  uint64_t seq, covered;                /* last entry, last signed entry */
  uint8_t last[VG_AUDIT_HASH_BYTES];    /* hash of entry seq */
  uint64_t size;                        /* bytes of the log as written by us */
  uint64_t durable;                     /* of those, known on disk (fsync'd) */
  int syncing;                          /* a writer is in fsync (the mutex released) */
  pthread_cond_t synced;                /* broadcast when an fsync ends */
  int broken;                           /* sticky: the file is not what we think */
  vg_buf line;
};

/* Writes one whole line and fsyncs it; rolls back a failed write (a->mu held). */
static int put_bytes(vg_audit *a, const uint8_t *data, size_t len, const char *what);

static int put_line(vg_audit *a, const char *what)
{
  return put_bytes(a, a->line.data, a->line.len, what);
}

/*
 * Group commit. Writers append their lines under the mutex (put_bytes: write, no fsync), then
 * wait until the log is durable up to their own end (sync_upto): one of them runs fsync with
 * the mutex released while the others queue their writes, and every writer whose bytes that
 * fsync covered returns together. A writer returns VG_OK only once its own entries are on
 * disk, so "recorded before released" holds as with an fsync per entry, at one fsync per
 * group of concurrent writers instead of one per entry.
 */
static int sync_upto(vg_audit *a, uint64_t end)
{
  while (!a->broken && a->durable < end) {
    uint64_t target;
    int r, e;
    if (a->syncing) {
      pthread_cond_wait(&a->synced, &a->mu);
      continue;
    }
    a->syncing = 1;
    target = a->size;
    pthread_mutex_unlock(&a->mu);
    r = fsync(a->fd);
    e = errno;
    pthread_mutex_lock(&a->mu);
    a->syncing = 0;
    if (r != 0) {
      /* after a failed fsync the page cache cannot be trusted either: stop */
      a->broken = VG_E_IO;
      pthread_cond_broadcast(&a->synced);
      return vg_error_set(VG_E_IO, "audit log '%s': fsync failed: %s (the writer stops)", a->path, strerror(e));
    }
    if (target > a->durable)
      a->durable = target;
    pthread_cond_broadcast(&a->synced);
  }
  if (a->broken && a->durable < end)
    return vg_error_set(a->broken, "audit log '%s': the writer stopped after an I/O error", a->path);
  return VG_OK;
}

/* Appends @p len bytes (whole lines) with one write; rolls back on failure. Not yet durable:
 * the caller waits with sync_upto(a, a->size). */
static int put_bytes(vg_audit *a, const uint8_t *data, size_t len, const char *what)
{
  struct stat st;
  if (fstat(a->fd, &st) != 0 || (uint64_t)st.st_size != a->size) {
    a->broken = VG_E_IO;
    return vg_error_set(VG_E_IO,
                        "audit log '%s': changed under the writer (%lld bytes, %llu expected): refusing to "
                        "append; reopen it to verify",
                        a->path, (long long)st.st_size, (unsigned long long)a->size);
  }
  if (write_all(a->fd, data, len) != 0) {
    int e = errno;
    if (ftruncate(a->fd, (off_t)a->size) != 0 || fsync(a->fd) != 0)
      a->broken = VG_E_IO;
    return vg_error_set(VG_E_IO, "audit log '%s': cannot write the %s: %s%s", a->path, what, strerror(e),
                        a->broken ? " (and cannot roll it back: the writer stops)" : " (rolled back)");
  }
  a->size += len;
  return VG_OK;
}

/* a->mu held. */
static int checkpoint_locked(vg_audit *a)
{
  uint8_t m[CP_MSG_LEN], sig[SIG_BYTES];
  size_t mlen;
  int64_t t;
  int rc;
  if (a->broken)
    return vg_error_set(a->broken, "audit log '%s': the writer stopped after an I/O error", a->path);
  if (a->covered == a->seq)
    return VG_OK;
  t = now_us();
  mlen = cp_message(m, a->seq, a->last, t);
  crypto_sign_detached(sig, NULL, m, mlen, a->sk);
  if ((rc = format_checkpoint(&a->line, a->seq, a->last, t, a->pk, sig)) != VG_OK)
    return vg_error_set(rc, "audit log '%s': checkpoint %llu: %s", a->path, (unsigned long long)a->seq,
                        vg_strerror(rc));
  if ((rc = put_line(a, "checkpoint")) != VG_OK)
    return rc;
  a->covered = a->seq;
  return VG_OK;
}

int vg_audit_open(vg_audit **out, const char *path, const char *secret_key_path, const vg_audit_opts *opts)
{
  vg_audit_opts d = VG_AUDIT_OPTS_INIT;
  vg_audit *a = NULL;
  vg_audit_report r;
  struct stat st;
  src s;
  int rc;
  if (!out || !path || !*path || !secret_key_path)
    return vg_error_set(VG_E_INVALID, "audit open: no log or no key");
  if ((rc = crypto_ready()) != VG_OK)
    return rc;
  if (!(a = calloc(1, sizeof *a)) || !(a->path = strdup(path))) {
    free(a);
    return vg_error_set(VG_E_NOMEM, "audit open '%s'", path);
  }
  a->fd = -1;
  a->o = opts ? *opts : d;
  vg_buf_init(&a->line, VG_AUDIT_LINE_MAX + 1);
  if (pthread_mutex_init(&a->mu, NULL) != 0) {
    free(a->path);
    free(a);
    return vg_error_set(VG_E_NOMEM, "audit open '%s': no mutex", path);
  }
  if (pthread_cond_init(&a->synced, NULL) != 0) {
    pthread_mutex_destroy(&a->mu);
    free(a->path);
    free(a);
    return vg_error_set(VG_E_NOMEM, "audit open '%s': no condition variable", path);
  }
  if ((rc = load_secret(secret_key_path, a->sk, a->pk)) != VG_OK)
    goto fail;
  a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (a->fd < 0) {
    rc = vg_error_set(VG_E_IO, "audit log '%s': cannot open: %s", path, strerror(errno));
    goto fail;
  }
  if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = vg_error_set(VG_E_INVALID, "audit log '%s': not a regular file", path);
    goto fail;
  }
  if (lock_fd(a->fd, LOCK_EX | (a->o.wait_lock ? 0 : LOCK_NB)) != 0) {
    rc = errno == EWOULDBLOCK ? vg_error_set(VG_E_DENIED, "audit log '%s': another writer holds it", path)
                              : vg_error_set(VG_E_IO, "audit log '%s': cannot lock: %s", path, strerror(errno));
    goto fail;
  }
  /* under the lock: read what is there, all of it, and continue its chain */
  memset(&s, 0, sizeof s);
  s.fd = a->fd;
  rc = scan(&s, a->pk, NULL, NULL, NULL, &r);
  if (rc != VG_OK) {
    if (r.status == VG_AUDIT_UNCOVERED && a->o.adopt_tail) {
      vg_log(VG_LOG_WARN, "server", "audit log '%s': adopting %llu unsigned entries (seq %llu to %llu)", path,
             (unsigned long long)r.uncovered, (unsigned long long)r.covered_seq + 1,
             (unsigned long long)r.last_seq);
    } else if (r.status == VG_AUDIT_UNCOVERED) {
      rc = vg_error_set(VG_E_DENIED,
                        "audit log '%s': %s; a writer died before signing them, or they were forged: check "
                        "them, then open with adopt_tail (`vigia audit checkpoint --adopt-tail`)",
                        path, r.reason);
      goto fail;
    } else if (r.status == VG_AUDIT_TORN) {
      rc = vg_error_set(VG_E_TRUNCATED, "audit log '%s': %s; refusing to append after it", path, r.reason);
      goto fail;
    } else {
      rc = vg_error_set(rc, "audit log '%s': refusing to append to a log that does not verify: %s", path,
                        r.reason);
      goto fail;
    }
  }
  if (fstat(a->fd, &st) != 0 || (uint64_t)st.st_size != r.good_bytes) {
    rc = vg_error_set(VG_E_IO, "audit log '%s': changed while it was read", path);
    goto fail;
  }
  a->size = r.good_bytes;
  a->durable = r.good_bytes; /* verified from the file: on disk as far as we can know */
  a->seq = r.last_seq;
  a->covered = r.covered_seq;
  memcpy(a->last, r.last_hash, VG_AUDIT_HASH_BYTES);
  if (a->size == 0)
    sync_dir(path);
  *out = a;
  return VG_OK;
fail:
  if (a->fd >= 0)
    close(a->fd); /* releases the lock */
  sodium_memzero(a->sk, sizeof a->sk);
  pthread_cond_destroy(&a->synced);
  pthread_mutex_destroy(&a->mu);
  vg_buf_free(&a->line);
  free(a->path);
  free(a);
  return rc;
}

int vg_audit_append(vg_audit *a, const vg_audit_entry *e, uint64_t *seq_out)
{
  vg_audit_entry x;
  int rc;
  if (!a)
    return vg_error_set(VG_E_INVALID, "audit append: no writer");
  if ((rc = check_entry(e)) != VG_OK)
    return rc;
  x = *e;
  pthread_mutex_lock(&a->mu);
  if (a->broken) {
    rc = vg_error_set(a->broken, "audit log '%s': the writer stopped after an I/O error", a->path);
    goto done;
  }
  if (a->seq == UINT64_MAX / 2) { /* seq is read back as a JSON integer (int64) */
    rc = vg_error_set(VG_E_LIMIT, "audit log '%s': seq exhausted", a->path);
    goto done;
  }
  x.seq = a->seq + 1;
  if (x.time_us == 0)
    x.time_us = now_us();
  memcpy(x.prev, a->last, VG_AUDIT_HASH_BYTES);
  hash_entry(&x, x.hash);
  if ((rc = format_entry(&a->line, &x)) != VG_OK) {
    rc = vg_error_set(rc, "audit log '%s': entry %llu: %s", a->path, (unsigned long long)x.seq, vg_strerror(rc));
    goto done;
  }
  if ((rc = put_line(a, "entry")) != VG_OK)
    goto done;
  a->seq = x.seq;
  memcpy(a->last, x.hash, VG_AUDIT_HASH_BYTES);
  if (seq_out)
    *seq_out = x.seq;
  if (a->o.checkpoint_every && a->seq - a->covered >= a->o.checkpoint_every)
    rc = checkpoint_locked(a);
  if (rc == VG_OK)
    rc = sync_upto(a, a->size);
done:
  pthread_mutex_unlock(&a->mu);
  return rc;
}

int vg_audit_append_many(vg_audit *a, const vg_audit_entry *e, size_t n)
{
  vg_buf batch;
  uint64_t seq;
  uint8_t last[VG_AUDIT_HASH_BYTES];
  int rc = VG_OK;
  if (!a)
    return vg_error_set(VG_E_INVALID, "audit append: no writer");
  if (!n)
    return VG_OK;
  if (!e)
    return vg_error_set(VG_E_INVALID, "audit append: no entries");
  for (size_t i = 0; i < n; i++)
    if ((rc = check_entry(&e[i])) != VG_OK)
      return rc;
  vg_buf_init(&batch, (size_t)1 << 30);
  pthread_mutex_lock(&a->mu);
  if (a->broken) {
    rc = vg_error_set(a->broken, "audit log '%s': the writer stopped after an I/O error", a->path);
    goto done;
  }
  /* the chain computed ahead, committed only once the whole batch is durable */
  seq = a->seq;
  memcpy(last, a->last, VG_AUDIT_HASH_BYTES);
  for (size_t i = 0; i < n && rc == VG_OK; i++) {
    vg_audit_entry x = e[i];
    if (seq >= UINT64_MAX / 2) {
      rc = vg_error_set(VG_E_LIMIT, "audit log '%s': seq exhausted", a->path);
      break;
    }
    x.seq = ++seq;
    if (x.time_us == 0)
      x.time_us = now_us();
    memcpy(x.prev, last, VG_AUDIT_HASH_BYTES);
    hash_entry(&x, x.hash);
    if ((rc = format_entry(&a->line, &x)) != VG_OK)
      rc = vg_error_set(rc, "audit log '%s': entry %llu: %s", a->path, (unsigned long long)x.seq, vg_strerror(rc));
    else
      rc = vg_buf_append(&batch, a->line.data, a->line.len);
    memcpy(last, x.hash, VG_AUDIT_HASH_BYTES);
  }
  if (rc == VG_OK && (rc = put_bytes(a, batch.data, batch.len, "entries")) == VG_OK) {
    a->seq = seq;
    memcpy(a->last, last, VG_AUDIT_HASH_BYTES);
    if (a->o.checkpoint_every && a->seq - a->covered >= a->o.checkpoint_every)
      rc = checkpoint_locked(a);
    if (rc == VG_OK)
      rc = sync_upto(a, a->size);
  }
done:
  pthread_mutex_unlock(&a->mu);
  vg_buf_free(&batch);
  return rc;
}

int vg_audit_checkpoint(vg_audit *a)
{
  int rc;
  if (!a)
    return vg_error_set(VG_E_INVALID, "audit checkpoint: no writer");
  pthread_mutex_lock(&a->mu);
  rc = checkpoint_locked(a);
  if (rc == VG_OK)
    rc = sync_upto(a, a->size);
  pthread_mutex_unlock(&a->mu);
  return rc;
}

uint64_t vg_audit_last_seq(vg_audit *a)
{
  uint64_t s;
  if (!a)
    return 0;
  pthread_mutex_lock(&a->mu);
  s = a->seq;
  pthread_mutex_unlock(&a->mu);
  return s;
}

int vg_audit_close(vg_audit *a)
{
  int rc;
  if (!a)
    return VG_OK;
  pthread_mutex_lock(&a->mu);
  rc = checkpoint_locked(a);
  if (rc == VG_OK || a->durable < a->size) {
    int rs = sync_upto(a, a->size);
    if (rc == VG_OK)
      rc = rs;
  }
  pthread_mutex_unlock(&a->mu);
  pthread_cond_destroy(&a->synced);
  (void)lock_fd(a->fd, LOCK_UN);
  close(a->fd);
  sodium_memzero(a->sk, sizeof a->sk);
  pthread_mutex_destroy(&a->mu);
  vg_buf_free(&a->line);
  free(a->path);
  free(a);
  return rc;
}

/* ---- repair ------------------------------------------------------------------------------ */

int vg_audit_repair(const char *path, uint64_t *removed)
{
  uint8_t *buf = NULL;
  char *torn = NULL;
  struct stat st;
  uint64_t end, start = 0;
  int fd = -1, tfd = -1, rc = VG_OK;
  size_t n;
  if (removed)
    *removed = 0;
  if (!path || !*path)
    return vg_error_set(VG_E_INVALID, "audit repair: no log");
  fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return vg_error_set(VG_E_IO, "audit log '%s': cannot open: %s", path, strerror(errno));
  if (lock_fd(fd, LOCK_EX | LOCK_NB) != 0) {
    rc = errno == EWOULDBLOCK ? vg_error_set(VG_E_DENIED, "audit log '%s': a writer holds it: not repaired", path)
                              : vg_error_set(VG_E_IO, "audit log '%s': cannot lock: %s", path, strerror(errno));
    goto done;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = vg_error_set(VG_E_INVALID, "audit log '%s': not a regular file", path);
    goto done;
  }
  end = (uint64_t)st.st_size;
  /* a torn append is at most one line: look for the last '\n' in the last VG_AUDIT_LINE_MAX + 1 bytes */
  if (!(buf = malloc(VG_AUDIT_LINE_MAX + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "audit repair '%s'", path);
    goto done;
  }
  {
    uint64_t from = end > VG_AUDIT_LINE_MAX + 1 ? end - (VG_AUDIT_LINE_MAX + 1) : 0;
    size_t len = (size_t)(end - from), i;
    ssize_t got = len ? pread(fd, buf, len, (off_t)from) : 0;
    if (got < 0 || (size_t)got != len) {
      rc = vg_error_set(VG_E_IO, "audit log '%s': cannot read its end", path);
      goto done;
    }
    for (i = len; i > 0 && buf[i - 1] != '\n'; i--)
      ;
    if (i == 0 && from > 0) {
      rc = vg_error_set(VG_E_INVALID,
                        "audit log '%s': more than %d bytes after the last newline: not a torn append; not "
                        "repaired",
                        path, VG_AUDIT_LINE_MAX);
      goto done;
    }
    start = from + i;
    n = len - i;
    if (n == 0)
      goto done; /* nothing torn */
    /* keep the evidence, then cut */
    if (!(torn = malloc(strlen(path) + 6))) {
      rc = vg_error_set(VG_E_NOMEM, "audit repair '%s'", path);
      goto done;
    }
    sprintf(torn, "%s.torn", path);
    tfd = open(torn, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (tfd < 0 || write_all(tfd, buf + i, n) != 0 || fsync(tfd) != 0) {
      rc = vg_error_set(VG_E_IO, "audit repair: cannot save the torn bytes to '%s': %s; not repaired", torn,
                        strerror(errno));
      goto done;
    }
  }
  if (ftruncate(fd, (off_t)start) != 0 || fsync(fd) != 0) {
    rc = vg_error_set(VG_E_IO, "audit log '%s': cannot truncate: %s", path, strerror(errno));
    goto done;
  }
  if (removed)
    *removed = end - start;
  vg_log(VG_LOG_WARN, "server", "audit log '%s': removed a torn last line of %llu bytes (saved to '%s')", path,
         (unsigned long long)(end - start), torn);
done:
  if (tfd >= 0)
    close(tfd);
  if (fd >= 0)
    close(fd);
  free(torn);
  free(buf);
  return rc;
}
