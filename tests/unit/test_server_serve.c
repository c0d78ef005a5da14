/*
 * The sharing server (lib/server/serve.c), in process, over real TLS:
 *   - a PKI made at run time with GnuTLS (partners' CA, server certificate for
 *     127.0.0.1/localhost, client certificates for MEX, GBR, an analyst (USA),
 *     a revoked partner, FRA cleared SECRET (nothing is released to it), and a
 *     rogue self-signed one), a register of eight sites with known markings
 *     (seven confirmed, one candidate), an audit key;
 *   - the delivery matrix: every recipient (and no certificate at all) x
 *     every egress (items, each item, four downloads, admin verify), status
 *     and the exact set of site ids in each body against a table written
 *     from the markings alone;
 *   - the census: every route in the table is metadata, release path or
 *     admin; every one called as FRA shows no site; metadata routes called as
 *     MEX show no site either;
 *   - OGC API parameters (bbox, datetime, limit), bad input (400 JSON, 404 for
 *     traversal, 405, oversize header and body), security headers;
 *   - the admin API: verify, revocation by the analyst (then 403, also
 *     after a restart: the partners file was rewritten);
 *   - the audit chain afterwards verifies, and its replay gives per
 *     recipient exactly the site ids received over HTTP.
 */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/products.h"
#include "vigia/server.h"
#include "vigia/sites.h"
#include "test_pki.h"
#include "test_server_fixture.h"

#define T_BASE VG_TSRV_T_BASE
#define NSITES VG_TSRV_NSITES
#define B(i) (1u << (i))

enum { W_MEX, W_GBR, W_ANALYST, W_REVOKED, W_FRA, W_ROGUE, W_NONE, W_N };

typedef vg_tsrv_who who;

static const who k_who[W_N] = {
  [W_MEX] = {"mex-ops", "MEX", "UNCLASSIFIED", "partner", 0, 1, 1},
  [W_GBR] = {"gbr-ops", "GBR", "UNCLASSIFIED", "partner", 0, 1, 1},
  [W_ANALYST] = {"usa-analyst", "USA", "TOP SECRET", "analyst", 0, 1, 1},
  [W_REVOKED] = {"mex-old", "MEX", "UNCLASSIFIED", "partner", 1, 1, 1},
  [W_FRA] = {"fra-ops", "FRA", "SECRET", "partner", 0, 1, 1},
  [W_ROGUE] = {"rogue", NULL, NULL, NULL, 0, 0, 1},
  [W_NONE] = {"none", NULL, NULL, NULL, 0, 0, 0},
};

/*
 * What each recipient must receive, from the markings alone (site: derived marking):
 *   1 U REL USA,MEX   2 C REL USA,MEX   3 U REL USA,GBR   4 S NOFORN   5 unmarked
 *   6 unmarked        7 U REL USA,MEX   8 U REL USA,MEX but a candidate (never served)
 * MEX (U): 1, 7. GBR (U): 3. USA analyst (TS): 1, 2, 3, 7. FRA: none.
 */
static const uint32_t k_expect[W_N] = {
  [W_MEX] = B(1) | B(7),
  [W_GBR] = B(3),
  [W_ANALYST] = B(1) | B(2) | B(3) | B(7),
};

typedef struct fixture {
  char dir[64];
  char ca[128], ca_key[128], srv_cert[128], srv_key[128], partners[128], audit[128], key[128], db[128], log[128];
  char cert[W_N][128], pkey[W_N][128];
  vg_server *srv;
  unsigned port;
  FILE *logf;
  uint32_t received[W_N]; /* every site id each recipient got over HTTP */
} fixture;

static fixture *g;

/* The PKI, partners file and register: tests/support/test_server_fixture.c. */

/* ---- the client ----------------------------------------------------------------------------- */

typedef struct resp {
  long status;
  CURLcode cc;
  vg_buf body;
  char ctype[128], disp[128], csp[128], nosniff[64], cache[64], allow[64];
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
  resp *r = ud;
  return vg_buf_append(&r->body, p, sz * n) == VG_OK ? sz * n : 0;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
  size_t k = strlen(name), v;
  if (n <= k + 1 || strncasecmp(line, name, k) || line[k] != ':')
    return;
  line += k + 1;
  n -= k + 1;
  while (n && *line == ' ')
    line++, n--;
  while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
    n--;
  v = n < cap - 1 ? n : cap - 1;
  memcpy(out, line, v);
  out[v] = 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
  resp *r = ud;
  header_value(p, sz * n, "content-type", r->ctype, sizeof r->ctype);
  header_value(p, sz * n, "content-disposition", r->disp, sizeof r->disp);
  header_value(p, sz * n, "content-security-policy", r->csp, sizeof r->csp);
  header_value(p, sz * n, "x-content-type-options", r->nosniff, sizeof r->nosniff);
  header_value(p, sz * n, "cache-control", r->cache, sizeof r->cache);
  header_value(p, sz * n, "allow", r->allow, sizeof r->allow);
  return sz * n;
}

/* One request on the handle @p c (its connection kept alive between calls); *reused: the
 * request went over a connection the handle already had. */
static void request_on(CURL *c, const char *path, resp *r, long *reused)
{
  char url[1024];
  long nc = -1;
  memset(r, 0, sizeof *r);
  vg_buf_init(&r->body, 64u << 20);
  snprintf(url, sizeof url, "https://127.0.0.1:%u%s", g->port, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  r->cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
  *reused = nc == 0;
  if (r->cc != CURLE_OK)
    print_message("%s: %s\n", path, curl_easy_strerror(r->cc));
  if (vg_buf_putc(&r->body, 0) == VG_OK)
    r->body.len--;
}

/* A handle presenting @p cert and @p key (both NULL: no certificate). */
static CURL *handle_for(const char *cert, const char *key)
{
  CURL *c = curl_easy_init();
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_CAINFO, g->ca);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (cert) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
    curl_easy_setopt(c, CURLOPT_SSLKEY, key);
  }
  return c;
}

/* One request as @p w; the body is NUL-terminated. @p extra_header and @p body may be NULL. */
static void request(int w, const char *method, const char *path, const char *extra_header, const char *body,
                    resp *r)
{
  CURL *c = k_who[w].has_cert ? handle_for(g->cert[w], g->pkey[w]) : handle_for(NULL, NULL);
  struct curl_slist *h = NULL;
  long reused;
  if (!strcmp(method, "POST")) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
  } else if (strcmp(method, "GET"))
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (extra_header) {
    h = curl_slist_append(NULL, extra_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  }
  request_on(c, path, r, &reused);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
}

static void resp_free(resp *r) { vg_buf_free(&r->body); }

static const char *text(const resp *r) { return r->body.data ? (const char *)r->body.data : ""; }

/* Site ids named in a body, whatever the format: GeoJSON feature ids, KML placemarks, CoT uids, STIX names. */
static uint32_t ids_in(const char *s)
{
  static const char *const k_pat[] = {"\"type\":\"Feature\",\"id\":", "<Placemark id=\"site-", "uid=\"vigia-site-",
                                      "\"vigia site "};
  uint32_t m = 0;
  for (size_t i = 0; i < 4; i++)
    for (const char *p = strstr(s, k_pat[i]); p; p = strstr(p + 1, k_pat[i])) {
      long v = strtol(p + strlen(k_pat[i]), NULL, 10);
      if (v > 0 && v < 32)
        m |= B(v);
    }
  return m;
}

/* Nothing from the register: no site id, no coordinate (every site lies at lon -99.95), no banner. */
static void assert_no_register_data(const resp *r)
{
  assert_int_equal(ids_in(text(r)), 0);
  assert_null(strstr(text(r), "-99.95"));
  assert_null(strstr(text(r), "REL TO"));
  assert_null(strstr(text(r), "site/"));
}

static void assert_json_error(const resp *r, long status)
{
  json_t *j;
  json_error_t je;
  assert_int_equal(r->status, status);
  assert_string_equal(r->ctype, "application/json");
  j = json_loads(text(r), 0, &je);
  assert_non_null(j);
  assert_true(json_is_string(json_object_get(j, "code")));
  json_decref(j);
}

/* ---- set up: PKI, register, key, server ----------------------------------------------------- */

static int start_server(void)
{
  vg_server_opts o = VG_SERVER_OPTS_INIT;
  o.db = g->db;
  o.cert = g->srv_cert;
  o.key = g->srv_key;
  o.ca = g->ca;
  o.partners = g->partners;
  o.audit = g->audit;
  o.audit_key = g->key;
  o.port = 0;
  o.log = g->logf;
  if (vg_server_start(&g->srv, &o) != VG_OK) {
    print_message("server: %s\n", vg_error_last());
    return -1;
  }
  g->port = vg_server_port(g->srv);
  return g->port ? 0 : -1;
}

static int group_setup(void **state)
{
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  if (!(g = calloc(1, sizeof *g)))
    return -1;
  snprintf(g->dir, sizeof g->dir, "/tmp/vg_serve_XXXXXX");
  if (!mkdtemp(g->dir))
    return -1;
#define P(field, name) snprintf(g->field, sizeof g->field, "%s/%s", g->dir, name)
  P(ca, "ca.pem");
  P(ca_key, "ca.key");
  P(srv_cert, "server.pem");
  P(srv_key, "server.key");
  P(partners, "partners.json");
  P(audit, "audit.log");
  P(key, "audit.key");
  P(db, "register.db");
  P(log, "requests.log");
#undef P
  for (int w = 0; w < W_N; w++) {
    char dir[sizeof g->dir];
    memcpy(dir, g->dir, sizeof dir); /* a copy: gcc -O2 cannot tell g->dir from g->cert apart */
    snprintf(g->cert[w], sizeof g->cert[w], "%s/%s.pem", dir, k_who[w].name);
    snprintf(g->pkey[w], sizeof g->pkey[w], "%s/%s.key", dir, k_who[w].name);
  }
  if (gnutls_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return -1;
  if (vg_tsrv_pki(k_who, W_N, g->ca, g->ca_key, g->srv_cert, g->srv_key, g->partners, g->cert, g->pkey)) {
    print_message("PKI failed\n");
    return -1;
  }
  if (vg_tsrv_register(g->db) != VG_OK) {
    print_message("register: %s\n", vg_error_last());
    return -1;
  }
  if (vg_audit_keygen(g->key, NULL) != VG_OK || !(g->logf = fopen(g->log, "w")))
    return -1;
  return start_server();
}

static int group_teardown(void **state)
{
  char cmd[128];
  (void)state;
  if (!g)
    return 0;
  vg_server_stop(g->srv);
  if (g->logf)
    fclose(g->logf);
  curl_global_cleanup();
  gnutls_global_deinit();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->dir);
  if (system(cmd) != 0)
    print_message("could not remove %s\n", g->dir);
  free(g);
  g = NULL;
  return 0;
}

/* ---- the delivery matrix --------------------------------------------------------------------- */

static const char *const k_downloads[] = {"/products/sites.geojson", "/products/sites.kml", "/products/sites.cot",
                                          "/products/sites.stix.json"};

static void test_matrix(void **state)
{
  (void)state;
  for (int w = 0; w < W_N; w++) {
    int ok = k_who[w].listed && !k_who[w].revoked;
    resp r, absent;
    /* items */
    request(w, "GET", "/collections/sites/items", NULL, NULL, &r);
    print_message("  %-12s items: %ld, %zu bytes\n", k_who[w].name, r.status, r.body.len);
    assert_int_equal(r.cc, CURLE_OK);
    if (ok) {
      json_t *j = json_loads(text(&r), 0, NULL);
      assert_int_equal(r.status, 200);
      assert_string_equal(r.ctype, "application/geo+json");
      assert_int_equal(ids_in(text(&r)), k_expect[w]);
      assert_non_null(j);
      assert_int_equal(json_array_size(json_object_get(j, "features")), __builtin_popcount(k_expect[w]));
      assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), __builtin_popcount(k_expect[w]));
      assert_int_equal(json_integer_value(json_object_get(j, "numberReturned")), __builtin_popcount(k_expect[w]));
      assert_true(json_is_array(json_object_get(j, "links")));
      json_decref(j);
      g->received[w] |= ids_in(text(&r));
    } else {
      assert_json_error(&r, 403);
      assert_no_register_data(&r);
    }
    resp_free(&r);
    /* each item, and one that does not exist: the same 404 for absent and withheld */
    request(w, "GET", "/collections/sites/items/99", NULL, NULL, &absent);
    assert_int_equal(absent.status, ok ? 404 : 403);
    for (int id = 1; id <= NSITES; id++) {
      char path[64];
      snprintf(path, sizeof path, "/collections/sites/items/%d", id);
      request(w, "GET", path, NULL, NULL, &r);
      assert_int_equal(r.cc, CURLE_OK);
      if (ok && (k_expect[w] & B(id))) {
        json_t *j = json_loads(text(&r), 0, NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.ctype, "application/geo+json");
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "type")), "Feature");
        assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
        assert_int_equal(ids_in(text(&r)), B(id));
        json_decref(j);
        g->received[w] |= B(id);
      } else {
        assert_int_equal(r.status, ok ? 404 : 403);
        assert_int_equal(r.body.len, absent.body.len);
        assert_memory_equal(text(&r), text(&absent), r.body.len);
        assert_no_register_data(&r);
      }
      resp_free(&r);
    }
    resp_free(&absent);
    /* downloads */
    for (size_t d = 0; d < 4; d++) {
      request(w, "GET", k_downloads[d], NULL, NULL, &r);
      assert_int_equal(r.cc, CURLE_OK);
      if (ok) {
        assert_int_equal(r.status, 200);
        assert_int_equal(ids_in(text(&r)), k_expect[w]);
        assert_non_null(strstr(r.disp, "attachment"));
        g->received[w] |= ids_in(text(&r));
      } else {
        assert_int_equal(r.status, 403);
        assert_no_register_data(&r);
      }
      resp_free(&r);
    }
    /* the admin API: the analyst only */
    request(w, "GET", "/admin/audit/verify", NULL, NULL, &r);
    if (ok && !strcmp(k_who[w].role, "analyst")) {
      json_t *j = json_loads(text(&r), 0, NULL);
      assert_int_equal(r.status, 200);
      assert_non_null(j);
      assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
      json_decref(j);
    } else {
      assert_json_error(&r, 403);
      assert_no_register_data(&r);
    }
    resp_free(&r);
  }
}

/* OGC API parameters: bbox (CRS84 lon/lat), datetime on last_seen, limit. */
static void test_items_params(void **state)
{
  char path[256], t5[32];
  time_t t = (time_t)(T_BASE + 5 * 60);
  struct tm tm;
  resp r;
  json_t *j;
  (void)state;
  /* a box around site 1 only (site 1 at 17.859, site 2 at 17.868, lon -99.95) */
  request(W_MEX, "GET", "/collections/sites/items?bbox=-100,17.855,-99.9,17.863", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(1));
  resp_free(&r);
  /* the same box in lat/lon order is refused: the order is CRS84, and -100 is no latitude */
  request(W_MEX, "GET", "/collections/sites/items?bbox=17.855,-100,17.863,-99.9", NULL, NULL, &r);
  assert_json_error(&r, 400);
  assert_int_equal(ids_in(text(&r)), 0);
  resp_free(&r);
  /* last seen from 08:05 on: site 7 (08:07:01), not site 1 (08:01:00) */
  gmtime_r(&t, &tm);
  strftime(t5, sizeof t5, "%Y-%m-%dT%H:%M:%SZ", &tm);
  snprintf(path, sizeof path, "/collections/sites/items?datetime=%s/..", t5);
  request(W_MEX, "GET", path, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(7));
  resp_free(&r);
  snprintf(path, sizeof path, "/collections/sites/items?datetime=../%s", t5);
  request(W_MEX, "GET", path, NULL, NULL, &r);
  assert_int_equal(ids_in(text(&r)), B(1));
  resp_free(&r);
  /* an instant: site 1's last_seen, 08:01:00 */
  request(W_MEX, "GET", "/collections/sites/items?datetime=2026-06-01T08:01:00Z", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(1));
  resp_free(&r);
  request(W_MEX, "GET", "/collections/sites/items?datetime=2026-06-01T10:01:00%2B02:00", NULL, NULL, &r);
  assert_int_equal(ids_in(text(&r)), B(1));
  resp_free(&r);
  /* limit 1: one returned of two matched */
  request(W_MEX, "GET", "/collections/sites/items?limit=1", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(1));
  j = json_loads(text(&r), 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), 2);
  assert_int_equal(json_integer_value(json_object_get(j, "numberReturned")), 1);
  json_decref(j);
  resp_free(&r);
  request(W_MEX, "GET", "/collections/sites/items?limit=10000&bbox=-180,-90,180,90", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(1) | B(7));
  resp_free(&r);
  /* paging: the analyst's four sites one page of 1 at a time, by the next links, the filters
   * kept; the last page has no next link */
  {
    char next[512];
    uint32_t seen = 0;
    int pages = 0;
    snprintf(next, sizeof next, "/collections/sites/items?bbox=-180,-90,180,90&limit=1");
    while (next[0]) {
      json_t *links;
      size_t i;
      request(W_ANALYST, "GET", next, NULL, NULL, &r);
      assert_int_equal(r.status, 200);
      j = json_loads(text(&r), 0, NULL);
      assert_non_null(j);
      assert_int_equal(json_integer_value(json_object_get(j, "numberMatched")), 4);
      assert_int_equal(json_integer_value(json_object_get(j, "numberReturned")), 1);
      assert_int_equal(ids_in(text(&r)) & seen, 0); /* no site twice */
      seen |= ids_in(text(&r));
      next[0] = 0;
      links = json_object_get(j, "links");
      for (i = 0; i < json_array_size(links); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(links, i), "rel")), "next")) {
          snprintf(next, sizeof next, "%s", json_string_value(json_object_get(json_array_get(links, i), "href")));
          assert_non_null(strstr(next, "bbox=-180,-90,180,90&"));
        }
      json_decref(j);
      resp_free(&r);
      assert_true(++pages <= 4);
    }
    assert_int_equal(pages, 4);
    assert_int_equal(seen, k_expect[W_ANALYST]);
  }
  request(W_ANALYST, "GET", "/collections/sites/items?offset=4", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), 0);
  assert_null(strstr(text(&r), "\"next\""));
  resp_free(&r);
  request(W_ANALYST, "GET", "/collections/sites/items?offset=-1", NULL, NULL, &r);
  assert_json_error(&r, 400);
  resp_free(&r);
}

/* ---- the census ------------------------------------------------------------------------------ */

static void route_path(const vg_server_route *rt, char *out, size_t cap)
{
  size_t o = 0;
  for (const char *p = rt->pattern; *p && o + 16 < cap;) {
    if (*p == '{') {
      const char *val = !strncmp(p, "{id}", 4) ? "1" : "mex-ops";
      o += (size_t)snprintf(out + o, cap - o, "%s", val);
      p = strchr(p, '}') + 1;
    } else
      out[o++] = *p++;
  }
  out[o] = 0;
}

static void test_census(void **state)
{
  const vg_server_route *rt;
  size_t n = 0, nrelease = 0;
  (void)state;
  for (size_t i = 0; (rt = vg_server_route_at(i)); i++, n++) {
    char path[256];
    resp r;
    assert_non_null(rt->name);
    assert_non_null(rt->egress);
    assert_true(rt->egress[0]);
    assert_true(strspn(rt->egress, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(rt->egress));
    assert_true(rt->kind == VG_ROUTE_META || rt->kind == VG_ROUTE_RELEASE || rt->kind == VG_ROUTE_ADMIN);
    /* the admin API is analysts' only, and lives under /admin/ (refused to partners before routing) */
    assert_int_equal(rt->kind == VG_ROUTE_ADMIN, rt->role == VG_ROLE_ANALYST);
    assert_int_equal(rt->kind == VG_ROUTE_ADMIN, !strncmp(rt->pattern, "/admin/", 7));
    /* a route that carries sites goes through the release path: anything under /collections/sites/items
     * or /products is one */
    if (!strncmp(rt->pattern, "/collections/sites/items", 24) || !strncmp(rt->pattern, "/products", 9))
      assert_int_equal(rt->kind, VG_ROUTE_RELEASE);
    nrelease += rt->kind == VG_ROUTE_RELEASE;
    route_path(rt, path, sizeof path);
    /* FRA (cleared SECRET, in no REL TO): nothing from the register on any route */
    request(W_FRA, rt->method, path, NULL, NULL, &r);
    print_message("  census %-20s %-4s %-32s FRA: %ld\n", rt->name, rt->method, path, r.status);
    assert_int_equal(r.cc, CURLE_OK);
    assert_no_register_data(&r);
    if (rt->kind == VG_ROUTE_ADMIN)
      assert_int_equal(r.status, 403);
    else if (!strcmp(rt->name, "item") || !strcmp(rt->name, "map-static") || !strcmp(rt->name, "map-image"))
      assert_int_equal(r.status, 404); /* map files: "mex-ops" is in no allow-list */
    else if (!strcmp(rt->name, "map"))
      assert_int_equal(r.status, 503); /* no --web here: the page's files are not installed */
    else
      assert_int_equal(r.status, 200);
    resp_free(&r);
    /* metadata routes are metadata: nothing from the register even for a partner that has releases */
    if (rt->kind == VG_ROUTE_META) {
      request(W_MEX, rt->method, path, NULL, NULL, &r);
      assert_int_equal(r.status, strcmp(rt->name, "map") ? strncmp(rt->name, "map-", 4) ? 200 : 404 : 503);
      assert_no_register_data(&r);
      resp_free(&r);
    }
  }
  assert_true(n >= 12);
  assert_int_equal(nrelease, 8); /* with /map/sites.geojson and /map/banner.json */
}

/* ---- bad input, headers ------------------------------------------------------------------------ */

static void test_bad_input(void **state)
{
  static const char *const k_400[] = {
    "/collections/sites/items?bbox=1,2,3",
    "/collections/sites/items?bbox=1,2,3,4,5,6",
    "/collections/sites/items?bbox=a,b,c,d",
    "/collections/sites/items?bbox=-99,17,-100,18",
    "/collections/sites/items?bbox=nan,17,-99,18",
    "/collections/sites/items?limit=-1",
    "/collections/sites/items?limit=0",
    "/collections/sites/items?limit=100000",
    "/collections/sites/items?limit=10001",
    "/collections/sites/items?limit=1x",
    "/collections/sites/items?datetime=garbage",
    "/collections/sites/items?datetime=2026-02-30T00:00:00Z",
    "/collections/sites/items?datetime=2026-06-01T08:00:00",
    "/collections/sites/items?datetime=2026-06-02T00:00:00Z/2026-06-01T00:00:00Z",
    "/collections/sites/items?datetime=a/b/c",
    "/collections/sites/items?foo=%3Cscript%3E",
    "/collections/sites/items?limit=1&limit=2",
  };
  static const char *const k_404[] = {
    "/products/../register.db", "/products/%2e%2e/register.db", "/products/%2E%2E%2Fregister.db",
    "/collections/sites/items/..", "/collections/sites/items/%2e%2e", "/collections/sites/items/1/",
    "/products/", "/products/sites.geojson/", "/products/sites.json", "/register.db", "//collections",
    "/collections/sites/items/-1", "/collections/sites/items/01", "/collections/other/items",
  };
  resp r;
  char *big;
  (void)state;
  for (size_t i = 0; i < sizeof k_400 / sizeof k_400[0]; i++) {
    request(W_MEX, "GET", k_400[i], NULL, NULL, &r);
    print_message("  %-60s %ld\n", k_400[i], r.status);
    assert_json_error(&r, 400);
    assert_null(strstr(text(&r), "garbage"));
    assert_null(strstr(text(&r), "<script"));
    assert_no_register_data(&r);
    resp_free(&r);
  }
  for (size_t i = 0; i < sizeof k_404 / sizeof k_404[0]; i++) {
    request(W_MEX, "GET", k_404[i], NULL, NULL, &r);
    print_message("  %-60s %ld\n", k_404[i], r.status);
    assert_int_equal(r.status, 404);
    assert_no_register_data(&r);
    resp_free(&r);
  }
  /* under /admin/ a partner is refused before routing; the analyst gets the 404 */
  request(W_MEX, "GET", "/admin/../products/sites.kml", NULL, NULL, &r);
  assert_json_error(&r, 403);
  assert_no_register_data(&r);
  resp_free(&r);
  request(W_ANALYST, "GET", "/admin/../products/sites.kml", NULL, NULL, &r);
  assert_json_error(&r, 404);
  assert_no_register_data(&r);
  resp_free(&r);
  /* another method: 405 with Allow */
  request(W_MEX, "POST", "/collections/sites/items", NULL, NULL, &r);
  assert_json_error(&r, 405);
  assert_string_equal(r.allow, "GET");
  resp_free(&r);
  request(W_MEX, "DELETE", "/products/sites.kml", NULL, NULL, &r);
  assert_int_equal(r.status, 405);
  resp_free(&r);
  /* 1 MB of header, 1 MB of body: refused, nothing released */
  big = malloc((1u << 20) + 16);
  assert_non_null(big);
  memcpy(big, "X-Big: ", 7);
  memset(big + 7, 'a', 1u << 20);
  big[7 + (1u << 20)] = 0;
  request(W_MEX, "GET", "/collections/sites/items", big, NULL, &r);
  print_message("  1 MB header: curl %d, status %ld\n", r.cc, r.status);
  assert_true(r.cc != CURLE_OK || (r.status >= 400 && r.status < 500));
  assert_no_register_data(&r);
  resp_free(&r);
  /* curl itself will not send a 1 MB header line; 64 KiB it sends, over the server's 32 KiB cap */
  big[7 + (64u << 10)] = 0;
  request(W_MEX, "GET", "/collections/sites/items", big, NULL, &r);
  print_message("  64 KiB header: curl %d, status %ld\n", r.cc, r.status);
  assert_true(r.cc != CURLE_OK || (r.status >= 400 && r.status < 500));
  assert_no_register_data(&r);
  resp_free(&r);
  big[7 + (64u << 10)] = 'a';
  request(W_MEX, "POST", "/collections/sites/items", NULL, big + 7, &r);
  print_message("  1 MB body: curl %d, status %ld\n", r.cc, r.status);
  assert_true(r.cc != CURLE_OK || r.status == 413);
  assert_no_register_data(&r);
  resp_free(&r);
  free(big);
}

static void test_headers(void **state)
{
  static const char *const k_paths[] = {"/", "/conformance", "/collections", "/collections/sites",
                                        "/collections/sites/items", "/products/sites.kml", "/nowhere"};
  (void)state;
  for (size_t i = 0; i < sizeof k_paths / sizeof k_paths[0]; i++) {
    resp r;
    request(W_MEX, "GET", k_paths[i], NULL, NULL, &r);
    assert_string_equal(r.csp, "default-src 'self'");
    assert_string_equal(r.nosniff, "nosniff");
    assert_string_equal(r.cache, "no-store");
    assert_null(strstr(r.ctype, "html"));
    if (i < 4) {
      json_t *j = json_loads(text(&r), 0, NULL);
      assert_int_equal(r.status, 200);
      assert_string_equal(r.ctype, "application/json");
      assert_non_null(j);
      json_decref(j);
    }
    if (i == 5)
      assert_string_equal(r.disp, "attachment; filename=\"sites.kml\"");
    resp_free(&r);
  }
}

/* ---- admin: revocation ------------------------------------------------------------------------- */

static void test_revoke(void **state)
{
  resp r;
  json_t *j;
  int found = 0;
  (void)state;
  /* a partner may not, even its own; revoking goes by POST; an unknown partner is 404 */
  request(W_MEX, "POST", "/admin/partners/gbr-ops/revoke", NULL, NULL, &r);
  assert_json_error(&r, 403);
  resp_free(&r);
  request(W_GBR, "GET", "/admin/nothing-here", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  resp_free(&r);
  request(W_ANALYST, "GET", "/admin/partners/mex-ops/revoke", NULL, NULL, &r);
  assert_int_equal(r.status, 405);
  resp_free(&r);
  request(W_ANALYST, "POST", "/admin/partners/nobody/revoke", NULL, NULL, &r);
  assert_json_error(&r, 404);
  resp_free(&r);
  /* MEX still served, then revoked by the analyst, then refused */
  request(W_MEX, "GET", "/products/sites.geojson", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  request(W_ANALYST, "POST", "/admin/partners/mex-ops/revoke", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  request(W_MEX, "GET", "/products/sites.geojson", NULL, NULL, &r);
  assert_json_error(&r, 403);
  assert_no_register_data(&r);
  resp_free(&r);
  request(W_MEX, "GET", "/collections/sites/items/1", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  resp_free(&r);
  /* GBR unaffected */
  request(W_GBR, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(3));
  resp_free(&r);
  /* the partners file says so */
  j = json_load_file(g->partners, 0, NULL);
  assert_non_null(j);
  for (size_t i = 0; i < json_array_size(j); i++) {
    json_t *p = json_array_get(j, i);
    if (!strcmp(json_string_value(json_object_get(p, "name")), "mex-ops")) {
      found = 1;
      assert_true(json_is_true(json_object_get(p, "revoked")));
    } else if (!strcmp(json_string_value(json_object_get(p, "name")), "gbr-ops"))
      assert_true(json_is_false(json_object_get(p, "revoked")));
  }
  assert_int_equal(json_array_size(j), 5);
  assert_true(found);
  json_decref(j);
  /* and a restarted server reads it back */
  assert_int_equal(vg_server_stop(g->srv), VG_OK);
  g->srv = NULL;
  assert_int_equal(start_server(), 0);
  request(W_MEX, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_int_equal(r.status, 403);
  resp_free(&r);
  request(W_GBR, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
}

/* ---- the audit chain afterwards ---------------------------------------------------------------- */

static int on_replay(const vg_audit_entry *e, uint64_t line, void *ud)
{
  uint32_t *m = ud;
  long id;
  (void)line;
  if (strncmp(e->product, "site/", 5))
    return VG_OK; /* an admin action */
  id = strtol(e->product + 5, NULL, 10);
  if (id > 0 && id < 32)
    *m |= B(id);
  return VG_OK;
}

static void test_audit(void **state)
{
  uint8_t pub[VG_AUDIT_PUB_BYTES];
  char pubpath[160];
  vg_audit_report rep;
  uint8_t *log = NULL, *reqlog = NULL;
  size_t len = 0, rlen = 0;
  (void)state;
  assert_int_equal(vg_server_stop(g->srv), VG_OK);
  g->srv = NULL;
  snprintf(pubpath, sizeof pubpath, "%s.pub", g->key);
  assert_int_equal(vg_audit_pub_load(pubpath, pub), VG_OK);
  assert_int_equal(vg_audit_verify(g->audit, pub, &rep), VG_OK);
  assert_int_equal(rep.status, VG_AUDIT_OK);
  print_message("  audit: %llu entries, %llu checkpoints\n", (unsigned long long)rep.entries,
                (unsigned long long)rep.checkpoints);
  for (int w = 0; w < W_N; w++) {
    uint32_t m = 0;
    const char *label = k_who[w].listed ? k_who[w].name : "unauthenticated";
    assert_int_equal(vg_audit_replay(g->audit, pub, label, on_replay, &m, &rep), VG_OK);
    print_message("  replay %-12s 0x%03x, over HTTP 0x%03x\n", label, m, g->received[w]);
    assert_int_equal(m, g->received[w]);
    assert_int_equal(m, k_expect[w]);
  }
  /* the refusals are on record too: revoked, rogue (by fingerprint), no certificate, partner at /admin */
  assert_int_equal(vg_test_read_file(g->audit, &log, &len), 0);
  log = realloc(log, len + 1);
  assert_non_null(log);
  log[len] = 0;
  assert_non_null(strstr((char *)log, "\"recipient\":\"mex-old\""));
  assert_non_null(strstr((char *)log, "partner mex-old is revoked"));
  assert_non_null(strstr((char *)log, "\"recipient\":\"cert:"));
  assert_non_null(strstr((char *)log, "does not verify against the partners' CA"));
  assert_non_null(strstr((char *)log, "no client certificate"));
  assert_non_null(strstr((char *)log, "the admin API is for analysts only"));
  assert_non_null(strstr((char *)log, "\"product\":\"partner/mex-ops\""));
  free(log);
  /* the request log: one line per request, names, no secrets */
  fflush(g->logf);
  assert_int_equal(vg_test_read_file(g->log, &reqlog, &rlen), 0);
  reqlog = realloc(reqlog, rlen + 1);
  assert_non_null(reqlog);
  reqlog[rlen] = 0;
  assert_non_null(strstr((char *)reqlog, " mex-ops GET /collections/sites/items 200 "));
  assert_non_null(strstr((char *)reqlog, " unauthenticated GET /collections/sites/items 403 "));
  assert_non_null(strstr((char *)reqlog, " fra-ops GET /admin/audit/verify 403 "));
  assert_null(strstr((char *)reqlog, "PRIVATE KEY"));
  free(reqlog);
}

/* ---- a kept-alive connection ---------------------------------------------------------------- */

static int load_pem(const char *path, gnutls_datum_t *d)
{
  return gnutls_load_file(path, d) < 0 ? -1 : 0;
}

/*
 * The server keeps a connection's certificate verdict for at most VG_SERVER_REVERIFY_US
 * (serve.c, conn_ctx): on one kept-alive connection, a revocation takes effect at the next
 * request, and a certificate that expires while the connection stays open is refused once
 * the verdict is older than that bound.
 */
static void test_keepalive(void **state)
{
  gnutls_datum_t d = {NULL, 0};
  gnutls_x509_crt_t ca = NULL, c = NULL;
  gnutls_x509_privkey_t cak = NULL, k = NULL;
  char fp[65], cpath[160], kpath[160];
  time_t until;
  json_t *j, *p;
  CURL *h;
  resp r;
  long reused;
  (void)state;
  if (!g->srv) /* test_audit stopped it to read the closed log */
    assert_int_equal(start_server(), 0);
  /* revocation, same connection: FRA is served (nothing released to it), revoked, refused */
  h = handle_for(g->cert[W_FRA], g->pkey[W_FRA]);
  request_on(h, "/collections/sites/items", &r, &reused);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  request_on(h, "/collections/sites/items", &r, &reused);
  assert_int_equal(r.status, 200);
  assert_true(reused);
  resp_free(&r);
  request(W_ANALYST, "POST", "/admin/partners/fra-ops/revoke", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  request_on(h, "/collections/sites/items", &r, &reused);
  assert_true(reused);
  assert_json_error(&r, 403);
  resp_free(&r);
  curl_easy_cleanup(h);

  /* expiry, same connection: a GBR certificate valid for 3 more seconds */
  assert_int_equal(load_pem(g->ca, &d), 0);
  assert_int_equal(gnutls_x509_crt_init(&ca), 0);
  assert_int_equal(gnutls_x509_crt_import(ca, &d, GNUTLS_X509_FMT_PEM), 0);
  gnutls_free(d.data);
  assert_int_equal(load_pem(g->ca_key, &d), 0);
  assert_int_equal(gnutls_x509_privkey_init(&cak), 0);
  assert_int_equal(gnutls_x509_privkey_import(cak, &d, GNUTLS_X509_FMT_PEM), 0);
  gnutls_free(d.data);
  until = time(NULL) + 3;
  snprintf(cpath, sizeof cpath, "%s/gbr-brief.pem", g->dir);
  snprintf(kpath, sizeof kpath, "%s/gbr-brief.key", g->dir);
  assert_int_equal(vg_tpki_key(&k), 0);
  assert_int_equal(vg_tpki_cert_until(&c, k, "gbr-brief", 40, 0, 0, ca, cak, until), 0);
  assert_int_equal(vg_tpki_save(c, k, cpath, kpath), 0);
  assert_int_equal(vg_tpki_fingerprint(c, fp), 0);
  gnutls_x509_crt_deinit(c);
  gnutls_x509_privkey_deinit(k);
  gnutls_x509_crt_deinit(ca);
  gnutls_x509_privkey_deinit(cak);
  j = json_load_file(g->partners, 0, NULL);
  assert_non_null(j);
  p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "fingerprint", fp, "name", "gbr-brief", "country", "GBR",
                "cleared", "UNCLASSIFIED", "role", "partner", "revoked", 0);
  assert_non_null(p);
  assert_int_equal(json_array_append_new(j, p), 0);
  assert_int_equal(json_dump_file(j, g->partners, JSON_INDENT(2)), 0);
  json_decref(j);
  assert_int_equal(vg_server_stop(g->srv), VG_OK);
  g->srv = NULL;
  assert_int_equal(start_server(), 0);
  h = handle_for(cpath, kpath);
  request_on(h, "/collections/sites/items", &r, &reused);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(3));
  resp_free(&r);
  /* past the expiry, and so past the bound on the verdict of 4 s before, on the same connection */
  while (time(NULL) <= until + 1) {
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
  }
  request_on(h, "/collections/sites/items", &r, &reused);
  assert_true(reused);
  assert_json_error(&r, 403);
  assert_no_register_data(&r);
  resp_free(&r);
  curl_easy_cleanup(h);
}

/*
 * No record, no release: when the audit chain cannot take an entry (here the log was changed
 * under the writer, which then refuses to append), a partner's request is a 500 with nothing
 * from the register, every download too, and a refusal is a 500 as well. Runs last: the
 * writer stays stopped.
 */
static void test_audit_failure(void **state)
{
  resp r;
  FILE *f;
  (void)state;
  if (!g->srv)
    assert_int_equal(start_server(), 0);
  request(W_GBR, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(ids_in(text(&r)), B(3));
  resp_free(&r);
  assert_non_null(f = fopen(g->audit, "ab"));
  assert_int_equal(fputs("{\"forged\":1}\n", f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
  for (size_t i = 0; i < sizeof k_downloads / sizeof *k_downloads; i++) {
    request(W_GBR, "GET", k_downloads[i], NULL, NULL, &r);
    assert_json_error(&r, 500);
    assert_no_register_data(&r);
    resp_free(&r);
  }
  request(W_GBR, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_json_error(&r, 500);
  assert_no_register_data(&r);
  resp_free(&r);
  request(W_NONE, "GET", "/collections/sites/items", NULL, NULL, &r);
  assert_json_error(&r, 500);
  resp_free(&r);
}

/* The partners file refused with what and where (vg_server_partners_check, as the server reads it). */
static void test_partners_refused(void **state)
{
#define FP "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define FP2 "1f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define P(fp, name, country, cleared, role, revoked)                                                                 \
  "{\"fingerprint\": \"" fp "\", \"name\": \"" name "\", \"country\": \"" country "\", \"cleared\": \"" cleared  \
  "\", \"role\": \"" role "\", \"revoked\": " revoked "}"
  static const struct {
    const char *in, *msg;
    int rc;
  } k_bad[] = {
    {"[", "line", VG_E_MALFORMED},
    {"{}", "not a JSON array of partners", VG_E_MALFORMED},
    {"[1]", "partner 0: not an object", VG_E_MALFORMED},
    {"[" P("00", "mex-ops", "MEX", "UNCLASSIFIED", "partner", "false") "]", "member \"fingerprint\"", VG_E_MALFORMED},
    {"[" P(FP, "MEX OPS", "MEX", "UNCLASSIFIED", "partner", "false") "]", "member \"name\"", VG_E_MALFORMED},
    {"[" P(FP, "mex-ops", "XXX", "UNCLASSIFIED", "partner", "false") "]", "member \"country\"", VG_E_MALFORMED},
    {"[" P(FP, "mex-ops", "MEX", "VERY SECRET", "partner", "false") "]", "member \"cleared\"", VG_E_MALFORMED},
    {"[" P(FP, "mex-ops", "MEX", "UNCLASSIFIED", "admin", "false") "]", "member \"role\"", VG_E_MALFORMED},
    {"[" P(FP, "mex-ops", "MEX", "UNCLASSIFIED", "partner", "\"no\"") "]", "member \"revoked\"", VG_E_MALFORMED},
    {"[{\"fingerprint\": \"" FP "\", \"name\": \"mex-ops\"}]", "are all required", VG_E_MALFORMED},
    {"[" P(FP, "a", "MEX", "UNCLASSIFIED", "partner", "false") "," P(FP, "b", "GBR", "UNCLASSIFIED", "partner",
                                                                     "false") "]",
     "share a fingerprint or a name", VG_E_MALFORMED},
    {"[" P(FP, "a", "MEX", "UNCLASSIFIED", "partner", "false") "," P(FP2, "a", "GBR", "UNCLASSIFIED", "partner",
                                                                     "false") "]",
     "share a fingerprint or a name", VG_E_MALFORMED},
  };
  size_t n = 99;
  (void)state;
  for (size_t i = 0; i < sizeof k_bad / sizeof *k_bad; i++) {
    int rc = vg_server_partners_check((const uint8_t *)k_bad[i].in, strlen(k_bad[i].in), "p.json", &n);
    if (rc != k_bad[i].rc || !strstr(vg_error_last(), k_bad[i].msg) || !strstr(vg_error_last(), "p.json"))
      fail_msg("case %zu: rc %d '%s' (want %d, '%s')", i, rc, vg_error_last(), k_bad[i].rc, k_bad[i].msg);
    assert_int_equal(n, 99); /* untouched */
  }
  {
    const char *ok = "[" P(FP, "a", "MEX", "UNCLASSIFIED", "partner", "false") "," P(FP2, "b", "GBR", "SECRET",
                                                                                  "analyst", "true") "]";
    assert_int_equal(vg_server_partners_check((const uint8_t *)ok, strlen(ok), "p.json", &n), VG_OK);
    assert_int_equal(n, 2);
  }
#undef P
#undef FP
#undef FP2
}

int test_server_serve_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_matrix),   cmocka_unit_test(test_items_params), cmocka_unit_test(test_census),
    cmocka_unit_test(test_bad_input), cmocka_unit_test(test_headers),     cmocka_unit_test(test_revoke),
    cmocka_unit_test(test_audit),    cmocka_unit_test(test_keepalive),
    cmocka_unit_test(test_audit_failure), cmocka_unit_test(test_partners_refused),
  };
  return cmocka_run_group_tests_name("server_serve", tests, group_setup, group_teardown);
}
