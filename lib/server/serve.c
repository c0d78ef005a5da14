/*
 * The sharing server (docs/formats/server.md): HTTPS with mutual TLS
 * (libmicrohttpd over GnuTLS), OGC API Features and downloads of the sites
 * released to the partner, an analyst-only admin API.
 *
 * Request path, in this order, for every request:
 *   1. identity: the GnuTLS session's peer chain verified against the
 *      partners' CA (gnutls_certificate_verify_peers2 status 0) and the leaf's
 *      SHA-256 fingerprint found, not revoked, in the partners file. libmicrohttpd
 *      only *requests* a client certificate and answers a request without one
 *      or with a rogue one (research/sharing.md 5, tested), and 0.9.75 has no
 *      option to make GnuTLS require it: this check is the one that counts.
 *      Failure: 403 and an audit "deny" entry.
 *   2. no request body is accepted (no route takes one): 413.
 *   3. /admin/... to anyone but an analyst: 403 and an audit "deny" entry.
 *   4. route table: exact segments; no match 404, another method 405.
 *   5. a route's kind decides what it may touch. META handlers build fixed
 *      JSON from nothing. RELEASE routes only parse their parameters into a
 *      query; release_path() is the one function that reads the register:
 *      vg_products_collect for the recipient of step 1 (confirmed sites
 *      only), vg_product_write, every decision appended to the audit chain
 *      (allow with the BLAKE2b of the exact response bytes), then the bytes.
 *      A failed append is a 500 and nothing from the register leaves.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "vigia/products.h"
#include "vigia/server.h"
#include "vigia/sites.h"

#include "server_int.h"

/* Longest path kept for the request log and audit product ids (longer ones are cut). */
#define PATH_KEEP 200
/* Captures of "{x}" segments in one pattern. */
#define MAX_CAPS 2
#define CAP_MAX 64

typedef vg__partner partner;

struct vg_server {
  struct MHD_Daemon *d;
  vg_register *reg;
  pthread_mutex_t reg_mu; /* the register connection is not thread-safe */
  partner *p;
  size_t np;
  pthread_mutex_t p_mu; /* the partners table (revocation writes it) */
  char *partners_path;
  vg_audit *audit; /* thread-safe */
  char *audit_path;
  uint8_t pub[VG_AUDIT_PUB_BYTES];
  char *cert, *key, *ca;
  size_t key_len;
  FILE *log;
  unsigned port;
  char *web;                             /* the map page's files (NULL: /map answers 503) */
  char banner[VG_MARKING_BANNER_MAX];    /* /map/banner.json when no site is released */
  vg_marking_cache *mcache;              /* derived site markings, under reg_mu */
  vg_server_revoke_fn on_revoke;         /* told after an admin revocation (the CoT stream) */
  void *on_revoke_ud;
};

/* One request. */
typedef struct req {
  vg_server *s;
  int authed;
  partner who;
  char label[VG_AUDIT_RECIPIENT_MAX + 1]; /* audit recipient: the partner's name, or what the cert was */
  char method[16];
  char path[PATH_KEEP + 1];
  unsigned status;
  size_t bytes;
  int done; /* a response was queued */
} req;

/* ---- small helpers ------------------------------------------------------------------------ */

static const char *const k_level[] = {NULL, "UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"};

static int parse_level(const char *s, vg_class *out)
{
  for (int i = 1; i <= 5; i++)
    if (!strcmp(s, k_level[i])) {
      *out = (vg_class)i;
      return 0;
    }
  return -1;
}

/* Printable ASCII only (the rest '?'), at most PATH_KEEP bytes: safe in logs and audit strings. */
static void sanitize(char *dst, size_t cap, const char *src)
{
  size_t i = 0;
  for (; src && src[i] && i + 1 < cap; i++)
    dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
  dst[i] = 0;
  if (!i && cap > 1) {
    dst[0] = '/';
    dst[1] = 0;
  }
}

static int read_file(const char *path, size_t max, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *b = NULL;
  size_t n = 0;
  int rc = VG_OK;
  if (!f)
    return vg_error_set(VG_E_IO, "%s: %s", path, strerror(errno));
  if (!(b = malloc(max + 1))) {
    rc = vg_error_set(VG_E_NOMEM, "%s", path);
    goto done;
  }
  n = fread(b, 1, max + 1, f);
  if (ferror(f))
    rc = vg_error_set(VG_E_IO, "%s: read error", path);
  else if (n > max)
    rc = vg_error_set(VG_E_LIMIT, "%s: over %zu bytes", path, max);
done:
  fclose(f);
  if (rc != VG_OK) {
    if (b)
      sodium_memzero(b, max + 1);
    free(b);
    return rc;
  }
  b[n] = 0;
  *out = b;
  if (len)
    *len = n;
  return VG_OK;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
  static const char k[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = k[p[i] >> 4];
    out[2 * i + 1] = k[p[i] & 15];
  }
  out[2 * n] = 0;
}

/* ---- the partners file -------------------------------------------------------------------- */

static int name_ok(const char *s)
{
  size_t n = strlen(s);
  if (!n || n > VG_SERVER_NAME_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
          s[i] == '-'))
      return 0;
  return 1;
}

/* 64 hex digits, optionally colon-separated pairs, any case -> 64 lower-case hex. */
static int fp_parse(const char *s, char out[65])
{
  size_t k = 0;
  for (size_t i = 0; s[i]; i++) {
    char c = s[i];
    if (c == ':')
      continue;
    if (c >= 'A' && c <= 'F')
      c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || k == 64)
      return -1;
    out[k++] = c;
  }
  out[k] = 0;
  return k == 64 ? 0 : -1;
}

int vg__partners_load(const char *path, partner **out, size_t *n)
{
  char *text = NULL;
  size_t len = 0;
  int rc;
  if ((rc = read_file(path, VG_SERVER_PARTNERS_FILE_MAX, &text, &len)) != VG_OK)
    return rc;
  rc = vg__partners_parse((const uint8_t *)text, len, path, out, n);
  free(text);
  return rc;
}

int vg_server_partners_check(const uint8_t *buf, size_t len, const char *what, size_t *count)
{
  partner *p = NULL;
  size_t n = 0;
  int rc = vg__partners_parse(buf, len, what, &p, &n);
  free(p);
  if (rc == VG_OK && count)
    *count = n;
  return rc;
}

int vg__partners_parse(const uint8_t *buf, size_t len, const char *path, partner **out, size_t *n)
{
  json_t *root = NULL;
  json_error_t je;
  partner *p = NULL;
  size_t np = 0, i;
  int rc;
  if (!path)
    path = "partners";
  if (len > VG_SERVER_PARTNERS_FILE_MAX)
    return vg_error_set(VG_E_LIMIT, "%s: %zu bytes (at most %u)", path, len, VG_SERVER_PARTNERS_FILE_MAX);
  root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
  if (!root || !json_is_array(root)) {
    rc = vg_error_set(VG_E_MALFORMED, "%s: line %d: %s", path, root ? 1 : je.line,
                      root ? "not a JSON array of partners" : je.text);
    goto done;
  }
  np = json_array_size(root);
  if (np > VG_SERVER_PARTNERS_MAX) {
    rc = vg_error_set(VG_E_LIMIT, "%s: %zu partners (at most %d)", path, np, VG_SERVER_PARTNERS_MAX);
    goto done;
  }
  if (np && !(p = calloc(np, sizeof *p))) {
    rc = vg_error_set(VG_E_NOMEM, "%zu partners", np);
    goto done;
  }
  for (i = 0; i < np; i++) {
    json_t *o = json_array_get(root, i), *v;
    const char *key;
    size_t nkeys = 0;
    if (!json_is_object(o)) {
      rc = vg_error_set(VG_E_MALFORMED, "%s: partner %zu: not an object", path, i);
      goto done;
    }
    json_object_foreach(o, key, v) {
      const char *sv = json_is_string(v) ? json_string_value(v) : NULL;
      nkeys++;
      if (!strcmp(key, "fingerprint") && sv && !fp_parse(sv, p[i].fp))
        continue;
      if (!strcmp(key, "name") && sv && name_ok(sv)) {
        snprintf(p[i].name, sizeof p[i].name, "%s", sv);
        continue;
      }
      if (!strcmp(key, "country") && sv && strlen(sv) == 3 && vg_genc3_known(sv)) {
        memcpy(p[i].rcpt.country, sv, 4);
        continue;
      }
      if (!strcmp(key, "cleared") && sv && !parse_level(sv, &p[i].rcpt.cleared))
        continue;
      if (!strcmp(key, "role") && sv && (!strcmp(sv, "partner") || !strcmp(sv, "analyst"))) {
        p[i].analyst = !strcmp(sv, "analyst");
        continue;
      }
      if (!strcmp(key, "revoked") && json_is_boolean(v)) {
        p[i].revoked = json_is_true(v);
        continue;
      }
      rc = vg_error_set(VG_E_MALFORMED, "%s: partner %zu: member \"%s\" unknown or invalid", path, i, key);
      goto done;
    }
    if (!p[i].fp[0] || !p[i].name[0] || !p[i].rcpt.country[0] || !p[i].rcpt.cleared ||
        !json_object_get(o, "role") || !json_object_get(o, "revoked") || nkeys != 6) {
      rc = vg_error_set(VG_E_MALFORMED,
                        "%s: partner %zu: fingerprint, name, country, cleared, role and revoked are all required",
                        path, i);
      goto done;
    }
    for (size_t j = 0; j < i; j++)
      if (!strcmp(p[j].fp, p[i].fp) || !strcmp(p[j].name, p[i].name)) {
        rc = vg_error_set(VG_E_MALFORMED, "%s: partners %zu and %zu share a fingerprint or a name", path, j, i);
        goto done;
      }
  }
  *out = p;
  *n = np;
  p = NULL;
  rc = VG_OK;
done:
  free(p);
  json_decref(root);
  return rc;
}

/* Rewrites the partners file from the table (caller holds p_mu): a temporary file, fsync, rename. */
static int partners_save(const vg_server *s)
{
  json_t *root = json_array();
  char *text = NULL, tmp[4096] = "";
  int fd = -1, rc = VG_OK;
  size_t len;
  if (!root)
    return vg_error_set(VG_E_NOMEM, "partners");
  for (size_t i = 0; i < s->np; i++) {
    const partner *p = &s->p[i];
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "fingerprint", p->fp, "name", p->name, "country",
                          p->rcpt.country, "cleared", k_level[p->rcpt.cleared], "role",
                          p->analyst ? "analyst" : "partner", "revoked", p->revoked);
    if (!o || json_array_append_new(root, o)) {
      rc = vg_error_set(VG_E_NOMEM, "partners");
      goto done;
    }
  }
  if (!(text = json_dumps(root, JSON_INDENT(2)))) {
    rc = vg_error_set(VG_E_NOMEM, "partners");
    goto done;
  }
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", s->partners_path) >= sizeof tmp) {
    rc = vg_error_set(VG_E_LIMIT, "partners path too long");
    goto done;
  }
  len = strlen(text);
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0 ||
      write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
    rc = vg_error_set(VG_E_IO, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = vg_error_set(VG_E_IO, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  fd = -1;
  if (rename(tmp, s->partners_path) != 0)
    rc = vg_error_set(VG_E_IO, "%s: %s", s->partners_path, strerror(errno));
done:
  if (fd >= 0)
    close(fd);
  if (rc != VG_OK && tmp[0])
    unlink(tmp);
  free(text);
  json_decref(root);
  return rc;
}

/* ---- responses ---------------------------------------------------------------------------- */

static enum MHD_Result respond(req *q, struct MHD_Connection *c, unsigned status, const char *ctype,
                               const void *body, size_t len, const char *filename, const char *allow)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ret;
  int ok;
  if (!r)
    return MHD_NO;
  ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) == MHD_YES &&
       MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'") == MHD_YES &&
       MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
       MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
       MHD_add_response_header(r, "Referrer-Policy", "no-referrer") == MHD_YES &&
       MHD_add_response_header(r, "X-Frame-Options", "DENY") == MHD_YES;
  if (ok && filename) {
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
    ok = MHD_add_response_header(r, "Content-Disposition", disp) == MHD_YES;
  }
  if (ok && allow)
    ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES;
  ret = ok ? MHD_queue_response(c, status, r) : MHD_NO;
  MHD_destroy_response(r);
  if (ret == MHD_YES) {
    q->status = status;
    q->bytes = len;
    q->done = 1;
  }
  return ret;
}

/* An error as JSON; @p desc is always a fixed string of ours, never the client's input or internals. */
static enum MHD_Result respond_error(req *q, struct MHD_Connection *c, unsigned status, const char *code,
                                     const char *desc, const char *allow)
{
  vg_buf b;
  vg_jw w;
  enum MHD_Result ret;
  vg_buf_init(&b, 4096);
  vg_jw_init(&w, &b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "code");
  vg_jw_str(&w, code);
  vg_jw_key(&w, "description");
  vg_jw_str(&w, desc);
  vg_jw_obj_end(&w);
  if (vg_jw_finish(&w) != VG_OK) {
    vg_buf_free(&b);
    return MHD_NO;
  }
  ret = respond(q, c, status, "application/json", b.data, b.len, NULL, allow);
  vg_buf_free(&b);
  return ret;
}

/* A deny entry for a request refused before any release decision (identity, role). @return VG_OK or the append's error. */
static int audit_refusal(req *q, const char *egress, const char *why)
{
  vg_audit_entry e;
  memset(&e, 0, sizeof e);
  e.product = q->path;
  e.version = q->method[0] ? q->method : "-";
  e.marking = "";
  e.recipient = q->label;
  e.egress = egress;
  e.decision = VG_AUDIT_DENY;
  e.reason = why;
  e.policy = VG_RELEASE_POLICY;
  return vg_audit_append(q->s->audit, &e, NULL);
}

/* ---- identity ----------------------------------------------------------------------------- */

int vg__peer_verify(gnutls_session_t tls, char fphex[65], char *why, size_t cap)
{
  const gnutls_datum_t *certs;
  unsigned ncerts = 0, status = 0;
  uint8_t fp[32];
  size_t fpl = sizeof fp;
  fphex[0] = 0;
  certs = gnutls_certificate_get_peers(tls, &ncerts);
  if (!certs || !ncerts) {
    snprintf(why, cap, "no client certificate");
    return -1;
  }
  if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0], fp, &fpl) != GNUTLS_E_SUCCESS || fpl != sizeof fp) {
    snprintf(why, cap, "client certificate unreadable");
    return -1;
  }
  hex(fp, sizeof fp, fphex);
  if (gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0) {
    snprintf(why, cap, "client certificate does not verify against the partners' CA (status 0x%x)", status);
    return -1;
  }
  return 0;
}

/*
 * What one connection's last verification found. The chain GnuTLS holds for a session is
 * the one its handshake proved (and a TLS 1.2 renegotiation would replace it), so a request
 * whose presented chain is byte-identical to the one verified on the same connection less
 * than VG_SERVER_REVERIFY_US ago takes that verdict; any other chain, or an older verdict, is
 * verified again. What changes with time alone (expiry) is thus seen within that bound.
 */
typedef struct conn_ctx {
  uint8_t chain[32]; /* BLAKE2b-256 over the presented chain's DER certificates */
  int64_t at_us;     /* when it was verified (0: never) */
  int ok;
  char fphex[65];
  char why[256];
} conn_ctx;

static int64_t mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* vg__peer_verify, or the verdict @p cc holds for the same chain (see conn_ctx). */
static int peer_verify_cached(gnutls_session_t tls, conn_ctx *cc, char fphex[65], char *why, size_t cap)
{
  const gnutls_datum_t *certs;
  unsigned ncerts = 0;
  uint8_t h[32];
  crypto_generichash_state st;
  int64_t now = mono_us();
  int rc;
  if (!cc)
    return vg__peer_verify(tls, fphex, why, cap);
  certs = gnutls_certificate_get_peers(tls, &ncerts);
  if (!certs || !ncerts)
    return vg__peer_verify(tls, fphex, why, cap);
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  for (unsigned i = 0; i < ncerts; i++) {
    uint8_t len[4] = {(uint8_t)(certs[i].size >> 24), (uint8_t)(certs[i].size >> 16), (uint8_t)(certs[i].size >> 8),
                      (uint8_t)certs[i].size};
    crypto_generichash_update(&st, len, sizeof len);
    crypto_generichash_update(&st, certs[i].data, certs[i].size);
  }
  crypto_generichash_final(&st, h, sizeof h);
  if (cc->at_us && now - cc->at_us < VG_SERVER_REVERIFY_US && now >= cc->at_us && !memcmp(cc->chain, h, sizeof h)) {
    memcpy(fphex, cc->fphex, 65);
    snprintf(why, cap, "%s", cc->why);
    return cc->ok ? 0 : -1;
  }
  rc = vg__peer_verify(tls, fphex, why, cap);
  memcpy(cc->chain, h, sizeof h);
  cc->at_us = now;
  cc->ok = rc == 0;
  memcpy(cc->fphex, fphex, 65);
  snprintf(cc->why, sizeof cc->why, "%s", rc ? why : "");
  return rc;
}

/* Sets q->authed and q->who, or says why not in @p why. q->label always names what was presented. */
static void identify(vg_server *s, struct MHD_Connection *c, req *q, char *why, size_t cap)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  const union MHD_ConnectionInfo *sc = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  gnutls_session_t tls;
  char fphex[65];
  q->authed = 0;
  snprintf(q->label, sizeof q->label, "unauthenticated");
  if (!ci || !ci->tls_session) {
    snprintf(why, cap, "no TLS session");
    return;
  }
  tls = (gnutls_session_t)ci->tls_session;
  if (peer_verify_cached(tls, sc ? sc->socket_context : NULL, fphex, why, cap)) {
    if (fphex[0])
      snprintf(q->label, sizeof q->label, "cert:%s", fphex);
    return;
  }
  snprintf(q->label, sizeof q->label, "cert:%s", fphex);
  pthread_mutex_lock(&s->p_mu);
  for (size_t i = 0; i < s->np; i++)
    if (!strcmp(s->p[i].fp, fphex)) {
      q->who = s->p[i];
      break;
    }
  pthread_mutex_unlock(&s->p_mu);
  if (!q->who.name[0]) {
    snprintf(why, cap, "certificate not in the partners file");
    return;
  }
  snprintf(q->label, sizeof q->label, "%s", q->who.name);
  if (q->who.revoked) {
    snprintf(why, cap, "partner %s is revoked", q->who.name);
    return;
  }
  q->authed = 1;
}

/* ---- the route table ---------------------------------------------------------------------- */

typedef enum shape { SHAPE_ITEMS, SHAPE_ITEM, SHAPE_DOWNLOAD, SHAPE_BANNER } shape;

/* What a RELEASE route asks of the release path. */
typedef struct query {
  double box[4]; /* lat0, lat1, lon0, lon1 (vg_products_collect's order) */
  int64_t t0, t1; /* last_seen window, inclusive */
  size_t limit, offset;
  char next_q[384]; /* SHAPE_ITEMS: the filters the next page's link repeats ("k=v&...") */
  int64_t id; /* SHAPE_ITEM: the feature */
  shape shape;
  vg_product_format fmt;
  const char *ctype, *filename;
} query;

typedef struct caps {
  int n;
  char v[MAX_CAPS][CAP_MAX];
} caps;

/* A META route: fixed JSON, from nothing. */
typedef int (*meta_fn)(vg_jw *w);
/* A RELEASE route: its parameters -> query, or a 400/404 with a fixed description. */
typedef int (*plan_fn)(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
/* An ADMIN route. */
typedef enum MHD_Result (*admin_fn)(req *q, struct MHD_Connection *c, const caps *cp);

typedef struct route {
  vg_server_route d;
  meta_fn meta;
  plan_fn plan;
  admin_fn admin;
} route;

static int meta_landing(vg_jw *w);
static int meta_conformance(vg_jw *w);
static int meta_collections(vg_jw *w);
static int meta_collection(vg_jw *w);
static int plan_items(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_item(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_geojson(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_kml(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_cot(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_stix(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static enum MHD_Result admin_verify(req *q, struct MHD_Connection *c, const caps *cp);
static enum MHD_Result admin_revoke(req *q, struct MHD_Connection *c, const caps *cp);
static int plan_map_sites(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static int plan_map_banner(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc);
static enum MHD_Result page_map(req *q, struct MHD_Connection *c, const caps *cp);
static enum MHD_Result page_static(req *q, struct MHD_Connection *c, const caps *cp);
static enum MHD_Result page_image(req *q, struct MHD_Connection *c, const caps *cp);

static const route k_routes[] = {
  {{"landing", "GET", "/", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_META}, meta_landing, NULL, NULL},
  {{"conformance", "GET", "/conformance", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_META}, meta_conformance, NULL, NULL},
  {{"collections", "GET", "/collections", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_META}, meta_collections, NULL, NULL},
  {{"collection", "GET", "/collections/sites", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_META}, meta_collection, NULL,
   NULL},
  {{"items", "GET", "/collections/sites/items", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_items,
   NULL},
  {{"item", "GET", "/collections/sites/items/{id}", "ogcapi", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_item,
   NULL},
  {{"download-geojson", "GET", "/products/sites.geojson", "download", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL,
   plan_geojson, NULL},
  {{"download-kml", "GET", "/products/sites.kml", "download", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_kml,
   NULL},
  {{"download-cot", "GET", "/products/sites.cot", "download", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_cot,
   NULL},
  {{"download-stix", "GET", "/products/sites.stix.json", "download", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL,
   plan_stix, NULL},
  {{"admin-audit-verify", "GET", "/admin/audit/verify", "admin", VG_ROLE_ANALYST, VG_ROUTE_ADMIN}, NULL, NULL,
   admin_verify},
  {{"admin-revoke", "POST", "/admin/partners/{name}/revoke", "admin", VG_ROLE_ANALYST, VG_ROUTE_ADMIN}, NULL, NULL,
   admin_revoke},
  /* the analyst map page: META rows with a handler in the last slot serve fixed files of the
   * --web folder (allow-listed names, nothing from the register); its data through release_path */
  {{"map", "GET", "/map", "map", VG_ROLE_PARTNER, VG_ROUTE_META}, NULL, NULL, page_map},
  {{"map-static", "GET", "/map/static/{file}", "map", VG_ROLE_PARTNER, VG_ROUTE_META}, NULL, NULL, page_static},
  {{"map-image", "GET", "/map/static/images/{file}", "map", VG_ROLE_PARTNER, VG_ROUTE_META}, NULL, NULL,
   page_image},
  {{"map-sites", "GET", "/map/sites.geojson", "map", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_map_sites,
   NULL},
  {{"map-banner", "GET", "/map/banner.json", "map", VG_ROLE_PARTNER, VG_ROUTE_RELEASE}, NULL, plan_map_banner,
   NULL},
};
#define N_ROUTES (sizeof k_routes / sizeof k_routes[0])

const vg_server_route *vg_server_route_at(size_t i)
{
  return i < N_ROUTES ? &k_routes[i].d : NULL;
}

/* Segment by segment; "{x}" takes one segment of [A-Za-z0-9._-], never "." or "..". */
static int match(const char *pattern, const char *path, caps *cp)
{
  cp->n = 0;
  if (*pattern != '/' || *path != '/')
    return 0;
  if (!strcmp(pattern, "/"))
    return !strcmp(path, "/");
  while (*pattern) {
    const char *pe, *se;
    size_t pl, sl;
    if (*pattern != '/' || *path != '/')
      return 0;
    pattern++;
    path++;
    pe = pattern + strcspn(pattern, "/");
    se = path + strcspn(path, "/");
    pl = (size_t)(pe - pattern);
    sl = (size_t)(se - path);
    if (pl >= 2 && pattern[0] == '{' && pattern[pl - 1] == '}') {
      if (!sl || sl >= CAP_MAX || cp->n == MAX_CAPS || (sl == 1 && path[0] == '.') ||
          (sl == 2 && !strncmp(path, "..", 2)))
        return 0;
      for (size_t i = 0; i < sl; i++) {
        char ch = path[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
          return 0;
      }
      memcpy(cp->v[cp->n], path, sl);
      cp->v[cp->n++][sl] = 0;
    } else if (pl != sl || strncmp(pattern, path, pl))
      return 0;
    pattern = pe;
    path = se;
  }
  return *path == 0;
}

/* ---- META routes: fixed documents, nothing from the register (not even an extent) ---------- */

static void put_link(vg_jw *w, const char *href, const char *rel, const char *type, const char *title)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "href");
  vg_jw_str(w, href);
  vg_jw_key(w, "rel");
  vg_jw_str(w, rel);
  vg_jw_key(w, "type");
  vg_jw_str(w, type);
  if (title) {
    vg_jw_key(w, "title");
    vg_jw_str(w, title);
  }
  vg_jw_obj_end(w);
}

static int meta_landing(vg_jw *w)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "title");
  vg_jw_str(w, "vigia");
  vg_jw_key(w, "description");
  vg_jw_str(w, "Sites released to this partner (OGC API - Features)");
  vg_jw_key(w, "links");
  vg_jw_arr_begin(w);
  put_link(w, "/", "self", "application/json", "this document");
  put_link(w, "/conformance", "conformance", "application/json", "conformance classes");
  put_link(w, "/collections", "data", "application/json", "collections");
  put_link(w, "/products/sites.geojson", "enclosure", "application/geo+json", "all released sites, GeoJSON");
  put_link(w, "/products/sites.kml", "enclosure", "application/vnd.google-earth.kml+xml", "all released sites, KML");
  put_link(w, "/products/sites.cot", "enclosure", "application/xml", "all released sites, Cursor on Target");
  put_link(w, "/products/sites.stix.json", "enclosure", "application/stix+json;version=2.1",
       "all released sites, STIX 2.1");
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
  return VG_OK;
}

static int meta_conformance(vg_jw *w)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "conformsTo");
  vg_jw_arr_begin(w);
  vg_jw_str(w, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core");
  vg_jw_str(w, "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson");
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
  return VG_OK;
}

static void collection(vg_jw *w)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "id");
  vg_jw_str(w, "sites");
  vg_jw_key(w, "title");
  vg_jw_str(w, "Sites");
  vg_jw_key(w, "description");
  vg_jw_str(w, "Confirmed sites released to the requesting partner");
  vg_jw_key(w, "itemType");
  vg_jw_str(w, "feature");
  vg_jw_key(w, "crs");
  vg_jw_arr_begin(w);
  vg_jw_str(w, "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
  vg_jw_arr_end(w);
  vg_jw_key(w, "links");
  vg_jw_arr_begin(w);
  put_link(w, "/collections/sites", "self", "application/json", NULL);
  put_link(w, "/collections/sites/items", "items", "application/geo+json", NULL);
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
}

static int meta_collections(vg_jw *w)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "links");
  vg_jw_arr_begin(w);
  put_link(w, "/collections", "self", "application/json", NULL);
  vg_jw_arr_end(w);
  vg_jw_key(w, "collections");
  vg_jw_arr_begin(w);
  collection(w);
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
  return VG_OK;
}

static int meta_collection(vg_jw *w)
{
  collection(w);
  return VG_OK;
}

/* ---- RELEASE routes: parameters only ------------------------------------------------------ */

static void query_all(query *qy)
{
  memset(qy, 0, sizeof *qy);
  qy->box[0] = -90;
  qy->box[1] = 90;
  qy->box[2] = -180;
  qy->box[3] = 180;
  qy->t0 = INT64_MIN;
  qy->t1 = INT64_MAX;
  qy->limit = (size_t)-1;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), exactly @p n bytes.
 * *t0 the instant (us), *t1 the end of its precision (a whole second without a fraction).
 */
static int parse_instant(const char *s, size_t n, int64_t *t0, int64_t *t1)
{
  static const unsigned k_mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
  size_t i = 19;
  int64_t us = 0, prec = 1000000, t;
  if (n < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
      s[16] != ':' || digits(s + 17, 2, &se))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > k_mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
    return -1;
  if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return -1;
  if (s[i] == '.') {
    int nd = 0;
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++)
      if (nd < 6) {
        us = us * 10 + (s[i] - '0');
        prec /= 10;
      }
    if (!nd)
      return -1;
    us *= prec;
  }
  if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
    sign = 0;
  else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && !digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
           !digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59)
    sign = s[i] == '+' ? 1 : -1;
  else
    return -1;
  t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
  *t0 = t * 1000000 + us;
  *t1 = *t0 + prec - 1;
  return 0;
}

/* An instant, or an interval "A/B" where either end may be ".." or empty (open). */
static int parse_datetime(const char *s, int64_t *t0, int64_t *t1)
{
  const char *slash = strchr(s, '/');
  int64_t a, b;
  if (!slash)
    return parse_instant(s, strlen(s), t0, t1);
  if (strchr(slash + 1, '/'))
    return -1;
  *t0 = INT64_MIN;
  *t1 = INT64_MAX;
  if (!(slash == s || (slash - s == 2 && !strncmp(s, "..", 2)))) {
    if (parse_instant(s, (size_t)(slash - s), &a, &b))
      return -1;
    *t0 = a;
  }
  if (!(!slash[1] || !strcmp(slash + 1, ".."))) {
    if (parse_instant(slash + 1, strlen(slash + 1), &a, &b))
      return -1;
    *t1 = b;
  }
  return *t0 <= *t1 ? 0 : -1;
}

/* A finite decimal number, the whole of [s, s+n). */
static int parse_num(const char *s, size_t n, double *out)
{
  char tmp[64], *end;
  double v;
  if (!n || n >= sizeof tmp)
    return -1;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  for (size_t i = 0; i < n; i++)
    if (!strchr("0123456789+-.eE", tmp[i]))
      return -1; /* no "nan", "inf", hex floats, spaces */
  errno = 0;
  v = strtod(tmp, &end);
  if (*end || errno || v != v)
    return -1;
  *out = v;
  return 0;
}

/* The query parameters an items request may carry, each at most once. */
typedef struct items_args {
  const char *bbox, *datetime, *limit, *offset;
  int bad;
} items_args;

static enum MHD_Result items_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  items_args *a = cls;
  const char **slot = NULL;
  (void)kind;
  if (!strcmp(key, "bbox"))
    slot = &a->bbox;
  else if (!strcmp(key, "datetime"))
    slot = &a->datetime;
  else if (!strcmp(key, "limit"))
    slot = &a->limit;
  else if (!strcmp(key, "offset"))
    slot = &a->offset;
  if (!slot || *slot || !value)
    a->bad = 1;
  else
    *slot = value;
  return MHD_YES;
}

static int plan_items(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  items_args a;
  (void)cp;
  memset(&a, 0, sizeof a);
  query_all(qy);
  qy->shape = SHAPE_ITEMS;
  qy->fmt = VG_PRODUCT_GEOJSON;
  qy->ctype = "application/geo+json";
  qy->limit = VG_SERVER_LIMIT_DEFAULT;
  *status = MHD_HTTP_BAD_REQUEST;
  MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, items_arg, &a);
  if (a.bad) {
    *desc = "unknown, repeated or empty query parameter (bbox, datetime, limit, offset)";
    return -1;
  }
  if (a.bbox) {
    double v[4];
    const char *p = a.bbox;
    for (int i = 0; i < 4; i++) {
      size_t k = strcspn(p, ",");
      if (parse_num(p, k, &v[i]) || (i < 3 && p[k] != ',') || (i == 3 && p[k])) {
        *desc = "bbox: four numbers wanted, lon0,lat0,lon1,lat1 (CRS84)";
        return -1;
      }
      p += k + (i < 3);
    }
    if (v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > v[2] || v[1] > v[3]) {
      *desc = "bbox: lon in [-180, 180], lat in [-90, 90], lower corner first";
      return -1;
    }
    qy->box[0] = v[1];
    qy->box[1] = v[3];
    qy->box[2] = v[0];
    qy->box[3] = v[2];
  }
  if (a.datetime && parse_datetime(a.datetime, &qy->t0, &qy->t1)) {
    *desc = "datetime: an RFC 3339 date-time, or an interval A/B with '..' for an open end";
    return -1;
  }
  if (a.limit) {
    size_t n = strlen(a.limit), v = 0;
    if (!n || n > 5 || strspn(a.limit, "0123456789") != n || (v = (size_t)strtoul(a.limit, NULL, 10)) < 1 ||
        v > VG_SERVER_LIMIT_MAX) {
      *desc = "limit: an integer from 1 to 10000";
      return -1;
    }
    qy->limit = v;
  }
  if (a.offset) {
    size_t n = strlen(a.offset);
    if (!n || n > 9 || strspn(a.offset, "0123456789") != n) {
      *desc = "offset: an integer from 0 to 999999999";
      return -1;
    }
    qy->offset = (size_t)strtoul(a.offset, NULL, 10);
  }
  /* what the next page's link repeats: the filters as given (percent-encoded but for the
   * characters RFC 3986 allows in a query) */
  {
    const char *vals[2] = {a.bbox, a.datetime}, *keys[2] = {"bbox", "datetime"};
    size_t o = 0;
    for (int i = 0; i < 2; i++) {
      if (!vals[i])
        continue;
      o += (size_t)snprintf(qy->next_q + o, sizeof qy->next_q - o, "%s=", keys[i]);
      for (const unsigned char *p = (const unsigned char *)vals[i]; *p && o + 4 < sizeof qy->next_q; p++)
        o += (size_t)((isalnum(*p) || strchr("-._~,:/", *p)) ? snprintf(qy->next_q + o, sizeof qy->next_q - o, "%c", *p)
                                                             : snprintf(qy->next_q + o, sizeof qy->next_q - o, "%%%02X", *p));
      if (o + 1 < sizeof qy->next_q)
        qy->next_q[o++] = '&', qy->next_q[o] = 0;
    }
  }
  return 0;
}

static int plan_item(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  const char *s = cp->v[0];
  size_t n = strlen(s);
  int64_t id = 0;
  (void)c;
  query_all(qy);
  qy->shape = SHAPE_ITEM;
  qy->fmt = VG_PRODUCT_GEOJSON;
  qy->ctype = "application/geo+json";
  /* not a site id: the same 404 as an absent or withheld one */
  if (!n || n > 18 || strspn(s, "0123456789") != n || s[0] == '0') {
    *status = MHD_HTTP_NOT_FOUND;
    *desc = "no such feature";
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    id = id * 10 + (s[i] - '0');
  qy->id = id;
  return 0;
}

static int plan_download(query *qy, vg_product_format f, const char *ctype, const char *filename)
{
  query_all(qy);
  qy->shape = SHAPE_DOWNLOAD;
  qy->fmt = f;
  qy->ctype = ctype;
  qy->filename = filename;
  return 0;
}

static int plan_geojson(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  return plan_download(qy, VG_PRODUCT_GEOJSON, "application/geo+json", "sites.geojson");
}
static int plan_kml(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  return plan_download(qy, VG_PRODUCT_KML, "application/vnd.google-earth.kml+xml", "sites.kml");
}
static int plan_cot(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  return plan_download(qy, VG_PRODUCT_COT, "application/xml", "sites.cot");
}
static int plan_stix(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  return plan_download(qy, VG_PRODUCT_STIX, "application/stix+json;version=2.1", "sites.stix.json");
}

/* ---- the map page (web/; docs/formats/server.md "Map page") ------------------------------- */

/* The map's data: every confirmed site released to the caller, GeoJSON, inline (no attachment). */
static int plan_map_sites(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  return plan_download(qy, VG_PRODUCT_GEOJSON, "application/geo+json", NULL);
}

/* The banner of what the map shows: derived over the same sites as /map/sites.geojson. */
static int plan_map_banner(struct MHD_Connection *c, const caps *cp, query *qy, unsigned *status, const char **desc)
{
  (void)c, (void)cp, (void)status, (void)desc;
  plan_download(qy, VG_PRODUCT_GEOJSON, "application/json", NULL);
  qy->shape = SHAPE_BANNER;
  return 0;
}

/* The derived banner of @p n released sites, or the server's default banner when there are none. */
static int banner_of(const vg_server *s, const vg_product_site *v, size_t n, char out[VG_MARKING_BANNER_MAX],
                     vg_class *cls)
{
  vg_marking m;
  if (!n) {
    snprintf(out, VG_MARKING_BANNER_MAX, "%s", s->banner);
    if (vg_marking_parse(out, &m) != VG_OK)
      return vg_error_set(VG_E_INVALID, "default banner");
    *cls = m.cls;
    return VG_OK;
  }
  m = v[0].marking;
  for (size_t i = 1; i < n; i++)
    vg_marking_derive(&m, &v[i].marking);
  *cls = m.cls;
  return vg_marking_format(&m, out, VG_MARKING_BANNER_MAX);
}

/* {"banner": "...", "classification": "...", "sites": N, "derived": true|false} */
static int banner_write(vg_buf *b, const vg_server *s, const vg_product_site *v, size_t n)
{
  char banner[VG_MARKING_BANNER_MAX];
  vg_class cls = VG_CLASS_UNMARKED;
  vg_jw w;
  int rc;
  if ((rc = banner_of(s, v, n, banner, &cls)) != VG_OK)
    return rc;
  vg_jw_init(&w, b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "banner");
  vg_jw_str(&w, banner);
  vg_jw_key(&w, "classification");
  vg_jw_str(&w, cls >= VG_CLASS_U && cls <= VG_CLASS_TS ? k_level[cls] : "UNMARKED");
  vg_jw_key(&w, "sites");
  vg_jw_uint(&w, n);
  vg_jw_key(&w, "derived");
  vg_jw_bool(&w, n > 0);
  vg_jw_obj_end(&w);
  return vg_jw_finish(&w);
}

/* The banner's own audit entry: product "map/banner", the digest of the body, its banner. */
static int banner_audit(req *q, const route *rt, const void *body, size_t len, size_t n)
{
  vg_audit_entry e;
  char banner[VG_MARKING_BANNER_MAX], why[96];
  vg_class cls = VG_CLASS_UNMARKED;
  int rc;
  (void)body;
  if ((rc = banner_of(q->s, NULL, 0, banner, &cls)) != VG_OK)
    return rc;
  memset(&e, 0, sizeof e);
  if (n) {
    /* the body holds the derived banner: read it back rather than derive twice */
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *bv = j ? json_string_value(json_object_get(j, "banner")) : NULL;
    if (bv)
      snprintf(banner, sizeof banner, "%s", bv);
    json_decref(j);
    if (!bv)
      return vg_error_set(VG_E_MALFORMED, "banner body");
    snprintf(why, sizeof why, "the derived marking of the %zu sites released to this recipient", n);
  } else
    snprintf(why, sizeof why, "no site released to this recipient: the server's default banner");
  e.product = "map/banner";
  e.version = "banner";
  vg_audit_digest(body ? body : "", len, e.digest);
  e.marking = banner;
  e.recipient = q->label;
  e.egress = rt->d.egress;
  e.decision = VG_AUDIT_ALLOW;
  e.reason = why;
  e.policy = VG_RELEASE_POLICY;
  return vg_audit_append(q->s->audit, &e, NULL);
}

/* Largest file of the map page served (countries-110m.json is 108 KB, leaflet.js 147 KB). */
#define MAP_FILE_MAX (4u << 20)

typedef struct asset {
  const char *name; /* the file's name in the --web folder: the only path that reaches the file system */
  const char *ctype;
} asset;

static const asset k_map_static[] = {
  {"leaflet.js", "text/javascript; charset=utf-8"},
  {"leaflet.css", "text/css; charset=utf-8"},
  {"topojson-client.min.js", "text/javascript; charset=utf-8"},
  {"countries-110m.json", "application/json"},
  {"map.js", "text/javascript; charset=utf-8"},
  {"map.css", "text/css; charset=utf-8"},
};
static const asset k_map_images[] = {
  {"images/layers.png", "image/png"},      {"images/layers-2x.png", "image/png"},
  {"images/marker-icon.png", "image/png"}, {"images/marker-icon-2x.png", "image/png"},
  {"images/marker-shadow.png", "image/png"},
};

static const char k_map_missing[] =
  "the map page's files are not installed on this server (npm ci --prefix web, then rebuild)";

/* Sends the file @p a->name of the --web folder (a name of ours, never the client's). */
static enum MHD_Result map_file(req *q, struct MHD_Connection *c, const asset *a)
{
  vg_server *s = q->s;
  char path[4096], *body = NULL;
  size_t len = 0;
  enum MHD_Result ret;
  struct stat st;
  if (!s->web)
    return respond_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable", k_map_missing, NULL);
  /* the page is served only when the vendored files are there too (npm ci, then the build copies them) */
  if ((size_t)snprintf(path, sizeof path, "%s/leaflet.js", s->web) >= sizeof path || stat(path, &st) != 0 ||
      (size_t)snprintf(path, sizeof path, "%s/%s", s->web, a->name) >= sizeof path || stat(path, &st) != 0 ||
      !S_ISREG(st.st_mode))
    return respond_error(q, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Unavailable", k_map_missing, NULL);
  if (read_file(path, MAP_FILE_MAX, &body, &len) != VG_OK) {
    vg_log(VG_LOG_ERROR, "server", "map: %s", vg_error_last());
    return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                         NULL);
  }
  ret = respond(q, c, MHD_HTTP_OK, a->ctype, body, len, NULL, NULL);
  free(body);
  return ret;
}

static enum MHD_Result page_map(req *q, struct MHD_Connection *c, const caps *cp)
{
  static const asset k_index = {"index.html", "text/html; charset=utf-8"};
  (void)cp;
  return map_file(q, c, &k_index);
}

/* Exact names only: the captured segment selects an entry of the table, it is never a path. */
static enum MHD_Result page_pick(req *q, struct MHD_Connection *c, const asset *t, size_t n, const char *prefix,
                                 const char *name)
{
  size_t pl = strlen(prefix);
  for (size_t i = 0; i < n; i++)
    if (!strncmp(t[i].name, prefix, pl) && !strcmp(t[i].name + pl, name))
      return map_file(q, c, &t[i]);
  return respond_error(q, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such resource", NULL);
}

static enum MHD_Result page_static(req *q, struct MHD_Connection *c, const caps *cp)
{
  return page_pick(q, c, k_map_static, sizeof k_map_static / sizeof k_map_static[0], "", cp->v[0]);
}

static enum MHD_Result page_image(req *q, struct MHD_Connection *c, const caps *cp)
{
  return page_pick(q, c, k_map_images, sizeof k_map_images / sizeof k_map_images[0], "images/", cp->v[0]);
}

/* ---- the release path: the only code that reads the register ------------------------------ */

typedef struct decision {
  int64_t site_id;
  int allowed;
  char banner[VG_MARKING_BANNER_MAX];
  char why[256];
} decision;

typedef struct tally {
  decision *d;
  size_t n, cap;
  int nomem;
} tally;

static void on_decision(void *ud, const vg_release_event *e)
{
  tally *t = ud;
  decision *d;
  if (t->n == t->cap) {
    size_t nc = t->cap ? 2 * t->cap : 64;
    decision *nd = realloc(t->d, nc * sizeof *nd);
    if (!nd) {
      t->nomem = 1;
      return;
    }
    t->d = nd;
    t->cap = nc;
  }
  d = &t->d[t->n++];
  d->site_id = e->site_id;
  d->allowed = e->allowed;
  snprintf(d->banner, sizeof d->banner, "%s", e->banner);
  snprintf(d->why, sizeof d->why, "%s", e->why);
}

static const char *const k_fmt_name[] = {"geojson", "kml", "cot", "stix"};

static enum MHD_Result release_path(req *q, struct MHD_Connection *c, const route *rt, const query *qy)
{
  vg_server *s = q->s;
  vg_product_site *v = NULL;
  size_t n = 0, matched = 0, kept = 0;
  tally t;
  vg_buf b, body;
  uint8_t digest[VG_AUDIT_HASH_BYTES];
  unsigned status = MHD_HTTP_OK;
  enum MHD_Result ret = MHD_NO;
  int rc;
  const void *out;
  size_t outlen, nents = 0;
  vg_audit_entry *ents = NULL;
  char *products = NULL;
  memset(&t, 0, sizeof t);
  vg_buf_init(&b, VG_SERVER_BODY_MAX);
  vg_buf_init(&body, VG_SERVER_BODY_MAX);
  pthread_mutex_lock(&s->reg_mu);
  rc = vg_products_collect_cached(s->reg, qy->box, &q->who.rcpt, on_decision, &t, s->mcache, &v, &n);
  pthread_mutex_unlock(&s->reg_mu);
  if (rc != VG_OK || t.nomem) {
    vg_log(VG_LOG_ERROR, "server", "collect: %s", rc != VG_OK ? vg_error_last() : "out of memory");
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  /* released, and asked for: confirmed (never candidates), in the window, the one id */
  for (size_t i = 0; i < n; i++) {
    const vg_site *x = &v[i].site;
    if (x->state != VG_SITE_CONFIRMED || x->last_us < qy->t0 || x->last_us > qy->t1 ||
        (qy->shape == SHAPE_ITEM && x->id != qy->id))
      continue;
    matched++;
    if (matched > qy->offset && kept < qy->limit)
      v[kept++] = v[i];
  }
  if (qy->shape == SHAPE_BANNER)
    rc = banner_write(&b, s, v, kept);
  else {
    vg_product_opts po = VG_PRODUCT_OPTS_INIT;
    po.title = "vigia sites";
    rc = vg_product_write(&b, qy->fmt, v, kept, &po);
  }
  if (rc == VG_OK && qy->shape == SHAPE_ITEMS) {
    /* the writer's FeatureCollection with OGC API's members added before its closing brace */
    if (b.len < 2 || b.data[b.len - 1] != '}')
      rc = vg_error_set(VG_E_MALFORMED, "GeoJSON writer output");
    else {
      b.len--;
      rc = vg_buf_printf(&b,
                         ",\"numberMatched\":%zu,\"numberReturned\":%zu,\"links\":["
                         "{\"href\":\"/collections/sites/items\",\"rel\":\"self\",\"type\":\"application/geo+json\"},"
                         "{\"href\":\"/collections/sites\",\"rel\":\"collection\",\"type\":\"application/json\"}",
                         matched, kept);
      /* OGC API Features 1, 7.15.6: a next link while more were matched than this page reaches */
      if (rc == VG_OK && matched > qy->offset + kept)
        rc = vg_buf_printf(&b,
                           ",{\"href\":\"/collections/sites/items?%slimit=%zu&offset=%zu\",\"rel\":\"next\","
                           "\"type\":\"application/geo+json\"}",
                           qy->next_q, qy->limit, qy->offset + kept);
      if (rc == VG_OK)
        rc = vg_buf_append(&b, "]}", 2);
    }
  }
  if (rc == VG_OK && qy->shape == SHAPE_ITEM && kept == 1) {
    /* the one Feature of the writer's collection: the bytes between "features":[ and the final ]} */
    static const char k_key[] = "\"features\":[";
    const char *p = NULL;
    if (vg_buf_putc(&b, 0) == VG_OK) {
      b.len--;
      p = strstr((const char *)b.data, k_key);
    }
    if (!p || b.len < 2 || memcmp(b.data + b.len - 2, "]}", 2))
      rc = vg_error_set(VG_E_MALFORMED, "GeoJSON writer output");
    else {
      size_t off = (size_t)(p - (const char *)b.data) + sizeof k_key - 1;
      rc = vg_buf_append(&body, b.data + off, b.len - 2 - off);
    }
  }
  if (rc != VG_OK) {
    vg_log(VG_LOG_ERROR, "server", "write: %s", vg_error_last());
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  if (qy->shape == SHAPE_ITEM) {
    if (kept == 1) {
      out = body.data;
      outlen = body.len;
    } else {
      out = NULL;
      outlen = 0;
      status = MHD_HTTP_NOT_FOUND;
    }
  } else {
    out = b.data;
    outlen = b.len;
  }
  vg_audit_digest(out ? out : "", outlen, digest);
  /* the audit chain, before anything leaves: every denial (for one feature: its own), every
   * released site in the body with the digest of the body; released but not sent: nothing.
   * One response's entries go in one write and one fsync (vg_audit_append_many). */
  if (t.n && !(ents = calloc(t.n, sizeof *ents))) {
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  if (t.n && !(products = calloc(t.n, 48))) {
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  for (size_t i = 0; i < t.n; i++) {
    const decision *d = &t.d[i];
    vg_audit_entry e;
    char *product = products + 48 * i;
    int in_body = 0;
    if (qy->shape == SHAPE_ITEM && d->site_id != qy->id)
      continue;
    if (d->allowed) {
      for (size_t j = 0; j < kept && !in_body && status == MHD_HTTP_OK && qy->shape != SHAPE_BANNER; j++)
        in_body = v[j].site.id == d->site_id;
      if (!in_body)
        continue; /* the banner carries no site: only its own entry below */
    }
    memset(&e, 0, sizeof e);
    snprintf(product, 48, "site/%lld", (long long)d->site_id);
    e.product = product;
    e.version = k_fmt_name[qy->fmt];
    if (d->allowed)
      memcpy(e.digest, digest, sizeof digest);
    e.marking = d->banner;
    e.recipient = q->label;
    e.egress = rt->d.egress;
    e.decision = d->allowed ? VG_AUDIT_ALLOW : VG_AUDIT_DENY;
    e.reason = d->why;
    e.policy = VG_RELEASE_POLICY;
    ents[nents++] = e;
  }
  if ((rc = vg_audit_append_many(s->audit, ents, nents)) != VG_OK) {
    /* not on record, not released */
    vg_log(VG_LOG_ERROR, "server", "audit: %s", vg_error_last());
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  if (qy->shape == SHAPE_BANNER && (rc = banner_audit(q, rt, out, outlen, kept)) != VG_OK) {
    vg_log(VG_LOG_ERROR, "server", "audit: %s", vg_error_last());
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
    goto done;
  }
  if (status == MHD_HTTP_NOT_FOUND)
    ret = respond_error(q, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such feature", NULL);
  else
    ret = respond(q, c, status, qy->ctype, out, outlen, qy->filename, NULL);
done:
  vg_buf_free(&b);
  vg_buf_free(&body);
  free(v);
  free(t.d);
  free(ents);
  free(products);
  return ret;
}

/* ---- ADMIN routes ------------------------------------------------------------------------- */

static enum MHD_Result admin_verify(req *q, struct MHD_Connection *c, const caps *cp)
{
  vg_audit_report r;
  vg_buf b;
  vg_jw w;
  char h[2 * VG_AUDIT_HASH_BYTES + 1];
  enum MHD_Result ret;
  (void)cp;
  /* sign what is there, so a verification of a live log is not "uncovered" by construction;
   * an append racing in between can still leave one unsigned entry (then: "uncovered") */
  if (vg_audit_checkpoint(q->s->audit) != VG_OK)
    return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the audit chain could not be signed",
                         NULL);
  vg_audit_verify(q->s->audit_path, q->s->pub, &r);
  vg_buf_init(&b, 1u << 16);
  vg_jw_init(&w, &b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "status");
  vg_jw_str(&w, vg_audit_status_name(r.status));
  vg_jw_key(&w, "reason");
  vg_jw_str(&w, r.reason);
  vg_jw_key(&w, "lines");
  vg_jw_uint(&w, r.lines);
  vg_jw_key(&w, "entries");
  vg_jw_uint(&w, r.entries);
  vg_jw_key(&w, "checkpoints");
  vg_jw_uint(&w, r.checkpoints);
  vg_jw_key(&w, "last_seq");
  vg_jw_uint(&w, r.last_seq);
  vg_jw_key(&w, "covered_seq");
  vg_jw_uint(&w, r.covered_seq);
  hex(r.covered_hash, sizeof r.covered_hash, h);
  vg_jw_key(&w, "covered_hash");
  vg_jw_str(&w, h);
  vg_jw_obj_end(&w);
  if (vg_jw_finish(&w) != VG_OK)
    ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                        NULL);
  else
    ret = respond(q, c, MHD_HTTP_OK, "application/json", b.data, b.len, NULL, NULL);
  vg_buf_free(&b);
  return ret;
}

static enum MHD_Result admin_revoke(req *q, struct MHD_Connection *c, const caps *cp)
{
  vg_server *s = q->s;
  int found = 0, saved = VG_OK, logged;
  char product[16 + VG_SERVER_NAME_MAX], why[64 + VG_SERVER_NAME_MAX];
  vg_audit_entry e;
  pthread_mutex_lock(&s->p_mu);
  for (size_t i = 0; i < s->np; i++)
    if (!strcmp(s->p[i].name, cp->v[0])) {
      found = 1;
      s->p[i].revoked = 1; /* in memory first: from now on its certificate gets 403 */
      saved = partners_save(s);
      break;
    }
  pthread_mutex_unlock(&s->p_mu);
  if (!found)
    return respond_error(q, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such partner", NULL);
  snprintf(product, sizeof product, "partner/%s", cp->v[0]);
  snprintf(why, sizeof why, "revoked by %s", q->who.name);
  memset(&e, 0, sizeof e);
  e.product = product;
  e.version = "revoke";
  e.marking = "";
  e.recipient = q->label;
  e.egress = "admin";
  e.decision = VG_AUDIT_ALLOW;
  e.reason = why;
  e.policy = VG_RELEASE_POLICY;
  logged = vg_audit_append(s->audit, &e, NULL);
  if (saved != VG_OK || logged != VG_OK) {
    vg_log(VG_LOG_ERROR, "server", "revoke %s: %s", cp->v[0], vg_error_last());
    return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError",
                         "revoked in memory, but not saved to the partners file or the audit chain", NULL);
  }
  if (s->on_revoke) /* the other egresses (the CoT stream) drop the partner too */
    s->on_revoke(s->on_revoke_ud, cp->v[0]);
  {
    static const char k_ok[] = "{\"revoked\":true}";
    return respond(q, c, MHD_HTTP_OK, "application/json", k_ok, sizeof k_ok - 1, NULL, NULL);
  }
}

vg_audit *vg_server_audit(vg_server *s)
{
  return s ? s->audit : NULL;
}

void vg_server_on_revoke(vg_server *s, vg_server_revoke_fn fn, void *ud)
{
  s->on_revoke = fn;
  s->on_revoke_ud = ud;
}

/* ---- the access handler ------------------------------------------------------------------- */

static enum MHD_Result handle(req *q, struct MHD_Connection *c, const char *url, const char *method)
{
  vg_server *s = q->s;
  char why[256];
  const route *rt = NULL;
  caps cp;
  int path_known = 0;
  const char *cl, *te;
  /* 1. who asks: on every request, before anything else */
  identify(s, c, q, why, sizeof why);
  if (!q->authed) {
    if (audit_refusal(q, "http", why) != VG_OK)
      return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                           NULL);
    return respond_error(q, c, MHD_HTTP_FORBIDDEN, "Forbidden", "client certificate not accepted", NULL);
  }
  /* 2. no route takes a body */
  cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  if (te || (cl && strcmp(cl, "0")))
    return respond_error(q, c, MHD_HTTP_CONTENT_TOO_LARGE, "PayloadTooLarge", "no request body is accepted", NULL);
  /* 3. the admin API, to analysts only: refused before it is even routed */
  if (!strncmp(url, "/admin/", 7) || !strcmp(url, "/admin")) {
    if (!q->who.analyst) {
      if (audit_refusal(q, "admin", "the admin API is for analysts only") != VG_OK)
        return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                             NULL);
      return respond_error(q, c, MHD_HTTP_FORBIDDEN, "Forbidden", "not permitted", NULL);
    }
  }
  /* 4. route */
  for (size_t i = 0; i < N_ROUTES && !rt; i++)
    if (match(k_routes[i].d.pattern, url, &cp)) {
      path_known = 1;
      if (!strcmp(method, k_routes[i].d.method))
        rt = &k_routes[i];
    }
  if (!rt) {
    if (path_known) {
      for (size_t i = 0; i < N_ROUTES; i++)
        if (match(k_routes[i].d.pattern, url, &cp))
          return respond_error(q, c, MHD_HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed", "method not allowed",
                               k_routes[i].d.method);
    }
    return respond_error(q, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such resource", NULL);
  }
  if (rt->d.role == VG_ROLE_ANALYST && !q->who.analyst) { /* belt and braces to step 3 */
    if (audit_refusal(q, rt->d.egress, "route for analysts only") != VG_OK)
      return respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                           NULL);
    return respond_error(q, c, MHD_HTTP_FORBIDDEN, "Forbidden", "not permitted", NULL);
  }
  /* 5. by kind */
  switch (rt->d.kind) {
  case VG_ROUTE_META: {
    vg_buf b;
    if (!rt->meta) /* a file of the map page */
      return rt->admin(q, c, &cp);
    vg_jw w;
    enum MHD_Result ret;
    vg_buf_init(&b, 1u << 16);
    vg_jw_init(&w, &b, 0);
    if (rt->meta(&w) != VG_OK || vg_jw_finish(&w) != VG_OK)
      ret = respond_error(q, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "InternalError", "the request could not be served",
                          NULL);
    else
      ret = respond(q, c, MHD_HTTP_OK, "application/json", b.data, b.len, NULL, NULL);
    vg_buf_free(&b);
    return ret;
  }
  case VG_ROUTE_RELEASE: {
    query qy;
    unsigned status = MHD_HTTP_BAD_REQUEST;
    const char *desc = "bad request";
    if (rt->plan(c, &cp, &qy, &status, &desc))
      return respond_error(q, c, status, status == MHD_HTTP_NOT_FOUND ? "NotFound" : "InvalidParameterValue", desc,
                           NULL);
    return release_path(q, c, rt, &qy);
  }
  case VG_ROUTE_ADMIN: return rt->admin(q, c, &cp);
  }
  return respond_error(q, c, MHD_HTTP_NOT_FOUND, "NotFound", "no such resource", NULL);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
  req *q = *req_cls;
  (void)version, (void)upload_data;
  if (!q) {
    const char *cl, *te;
    if (!(q = calloc(1, sizeof *q)))
      return MHD_NO;
    *req_cls = q;
    q->s = cls;
    sanitize(q->method, sizeof q->method, method);
    sanitize(q->path, sizeof q->path, url);
    /* A request announcing a body is answered at once (413, and the connection closes: its
     * body is never read). Any other is answered on the next call, once libmicrohttpd has the
     * whole request: a response queued on the first call is an "early" one, after which
     * libmicrohttpd closes the connection -- no keep-alive, a TLS handshake per request. */
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te || (cl && strcmp(cl, "0")))
      return handle(q, c, url ? url : "", method ? method : "");
    return MHD_YES;
  }
  if (!q->done && !*upload_size)
    return handle(q, c, url ? url : "", method ? method : "");
  /* whatever body follows an early answer is dropped */
  *upload_size = 0;
  return q->done ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls, enum MHD_RequestTerminationCode toe)
{
  vg_server *s = cls;
  req *q = *req_cls;
  (void)c;
  if (!q)
    return;
  if (s->log) {
    char t[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(s->log, "%s %s %s %s %u %zu%s\n", t, q->authed ? q->who.name : "unauthenticated", q->method, q->path,
            q->status, q->bytes, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    fflush(s->log);
  }
  free(q);
  *req_cls = NULL;
}

/* A connection's verification cache (conn_ctx) lives from its start to its close. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  (void)cls, (void)c;
  if (code == MHD_CONNECTION_NOTIFY_STARTED)
    *socket_context = calloc(1, sizeof(conn_ctx)); /* NULL: every request verifies */
  else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    free(*socket_context);
    *socket_context = NULL;
  }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[512];
  size_t n;
  (void)cls;
  vsnprintf(msg, sizeof msg, fmt, ap);
  n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = 0;
  vg_log(VG_LOG_DEBUG, "server", "mhd: %s", msg);
}

/* ---- life cycle --------------------------------------------------------------------------- */

/* The map page's folder and default banner (canonical: what vg_marking_parse reads back). */
static int map_config(vg_server *s, const vg_server_opts *o)
{
  vg_marking m;
  const char *banner = o->banner ? o->banner : "UNCLASSIFIED";
  if (o->web && !(s->web = strdup(o->web)))
    return vg_error_set(VG_E_NOMEM, "server");
  if (vg_marking_parse(banner, &m) != VG_OK || m.cls == VG_CLASS_UNMARKED)
    return vg_error_set(VG_E_INVALID, "server: the default banner is not a marking banner");
  return vg_marking_format(&m, s->banner, sizeof s->banner);
}

static void server_free(vg_server *s)
{
  if (!s)
    return;
  vg_register_close(s->reg);
  vg_marking_cache_free(s->mcache);
  free(s->p);
  free(s->partners_path);
  free(s->audit_path);
  free(s->web);
  free(s->cert);
  free(s->ca);
  if (s->key) {
    sodium_memzero(s->key, s->key_len);
    free(s->key);
  }
  pthread_mutex_destroy(&s->reg_mu);
  pthread_mutex_destroy(&s->p_mu);
  free(s);
}

int vg_server_start(vg_server **out, const vg_server_opts *o)
{
  vg_server *s = NULL;
  struct sockaddr_in sa;
  char pubpath[4096];
  const union MHD_DaemonInfo *di;
  int rc;
  if (!out || !o || o->version != VG_SERVER_OPTS_VERSION || !o->db || !o->cert || !o->key || !o->ca ||
      !o->partners || !o->audit || !o->audit_key || o->port > 65535)
    return vg_error_set(VG_E_INVALID, "server: db, cert, key, ca, partners, audit and audit_key are required");
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->bind ? o->bind : "127.0.0.1", &sa.sin_addr) != 1)
    return vg_error_set(VG_E_INVALID, "server: bind address '%s' is not an IPv4 address", o->bind);
  if ((size_t)snprintf(pubpath, sizeof pubpath, "%s.pub", o->audit_key) >= sizeof pubpath)
    return vg_error_set(VG_E_LIMIT, "server: audit key path too long");
  if (!(s = calloc(1, sizeof *s)))
    return vg_error_set(VG_E_NOMEM, "server");
  pthread_mutex_init(&s->reg_mu, NULL);
  pthread_mutex_init(&s->p_mu, NULL);
  s->log = o->log;
  if (!(s->partners_path = strdup(o->partners)) || !(s->audit_path = strdup(o->audit))) {
    rc = vg_error_set(VG_E_NOMEM, "server");
    goto fail;
  }
  if ((rc = read_file(o->cert, VG_SERVER_PEM_MAX, &s->cert, NULL)) != VG_OK ||
      (rc = read_file(o->key, VG_SERVER_PEM_MAX, &s->key, &s->key_len)) != VG_OK ||
      (rc = read_file(o->ca, VG_SERVER_PEM_MAX, &s->ca, NULL)) != VG_OK)
    goto fail;
  if (!strstr(s->ca, "-----BEGIN CERTIFICATE-----")) {
    rc = vg_error_set(VG_E_MALFORMED, "%s: no PEM certificate", o->ca);
    goto fail;
  }
  if ((rc = vg__partners_load(o->partners, &s->p, &s->np)) != VG_OK)
    goto fail;
  if ((rc = map_config(s, o)) != VG_OK)
    goto fail;
  if ((rc = vg_audit_pub_load(pubpath, s->pub)) != VG_OK)
    goto fail;
  if ((rc = vg_register_open(&s->reg, o->db)) != VG_OK || (rc = vg_marking_cache_new(&s->mcache)) != VG_OK)
    goto fail;
  {
    vg_audit_opts ao = VG_AUDIT_OPTS_INIT;
    if ((rc = vg_audit_open(&s->audit, o->audit, o->audit_key, &ao)) != VG_OK)
      goto fail;
  }
  s->d = MHD_start_daemon(
    MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL, NULL,
    on_access, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT, s->cert,
    MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_HTTPS_MEM_TRUST, s->ca, MHD_OPTION_HTTPS_PRIORITIES,
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_CONNECTION_LIMIT,
    (unsigned)(o->max_connections ? o->max_connections : VG_SERVER_CONN_MAX), MHD_OPTION_PER_IP_CONNECTION_LIMIT,
    (unsigned)VG_SERVER_CONN_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
    (unsigned)(o->timeout_s ? o->timeout_s : VG_SERVER_TIMEOUT_S), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
    (size_t)VG_SERVER_CONN_MEMORY, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
  if (!s->d) {
    rc = vg_error_set(VG_E_IO, "server: cannot listen on %s:%u (or bad TLS material)", o->bind ? o->bind : "127.0.0.1",
                      o->port);
    goto fail;
  }
  di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
  s->port = di ? di->port : o->port;
  *out = s;
  return VG_OK;
fail:
  if (s->audit)
    vg_audit_close(s->audit);
  server_free(s);
  return rc;
}

unsigned vg_server_port(const vg_server *s)
{
  return s ? s->port : 0;
}

int vg_server_stop(vg_server *s)
{
  int rc;
  if (!s)
    return VG_OK;
  if (s->d)
    MHD_stop_daemon(s->d);
  rc = vg_audit_close(s->audit);
  server_free(s);
  return rc;
}
