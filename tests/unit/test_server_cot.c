/*
 * The CoT stream (lib/server/cot.c), in process, over real TLS with GnuTLS
 * client sessions:
 *   - the PKI and register of tests/support/test_server_fixture.c (partners' CA,
 *     server certificate, MEX, GBR, a revoked partner and a rogue self-signed
 *     client; eight sites with known markings, seven confirmed);
 *   - on connect MEX receives exactly its released sites (uids vigia-site-1 and
 *     -7) and GBR only site 3; every event validates against MITRE's
 *     Event-PUBLIC.xsd with the TAK overlay (tests/products/validate.py);
 *   - rogue, no certificate and revoked clients: the connection closed with
 *     zero bytes of data;
 *   - a publish without change sends nothing; a site dismissed then published:
 *     MEX receives its retraction (t-x-d-d, same uid), GBR nothing; confirmed
 *     again: MEX receives it again; vg_cot_stream_retract_site;
 *   - revoke("mex-ops"): MEX's connection closed, a new one refused, GBR kept;
 *   - the audit chain verifies and its replay for each partner is, entry by
 *     entry, the events it received (product and BLAKE2b of the bytes).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
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
#define MAX_EV 64

enum { W_MEX, W_GBR, W_REVOKED, W_ROGUE, W_NONE, W_N };

typedef vg_tsrv_who who;

static const who k_who[W_N] = {
  [W_MEX] = {"mex-ops", "MEX", "UNCLASSIFIED", "partner", 0, 1, 1},
  [W_GBR] = {"gbr-ops", "GBR", "UNCLASSIFIED", "partner", 0, 1, 1},
  [W_REVOKED] = {"mex-old", "MEX", "UNCLASSIFIED", "partner", 1, 1, 1},
  [W_ROGUE] = {"rogue", NULL, NULL, NULL, 0, 0, 1},
  [W_NONE] = {"none", NULL, NULL, NULL, 0, 0, 0},
};

/* One event received: what it is and the digest of its exact bytes. */
typedef struct event {
  long id;
  int retract;
  uint8_t digest[VG_AUDIT_HASH_BYTES];
} event;

/* A client connection. */
typedef struct conn {
  int fd;
  gnutls_session_t s;
  gnutls_certificate_credentials_t cred;
  vg_buf in;
  size_t parsed; /* bytes of `in` already split into events */
  int closed;
} conn;

typedef struct fixture {
  char dir[64];
  char ca[128], srv_cert[128], srv_key[128], partners[128], audit[128], key[128], db[128];
  char cert[W_N][128], pkey[W_N][128];
  vg_audit *log;
  vg_cot_stream *st;
  unsigned port;
  conn mex, gbr;
  event got[W_N][MAX_EV]; /* every event each partner received, in order */
  size_t ngot[W_N];
} fixture;

static fixture *g;

/* The PKI, partners file and register: tests/support/test_server_fixture.c. */

/* ---- the client ----------------------------------------------------------------------------- */

/* Connects as @p w. @return 0 when the TLS handshake completed, -1 when it failed (k->closed then). */
static int conn_open(conn *k, int w)
{
  struct sockaddr_in sa;
  int r;
  memset(k, 0, sizeof *k);
  vg_buf_init(&k->in, 1u << 20);
  k->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(k->fd >= 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)g->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(k->fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_true(gnutls_certificate_allocate_credentials(&k->cred) >= 0);
  assert_true(gnutls_certificate_set_x509_trust_file(k->cred, g->ca, GNUTLS_X509_FMT_PEM) > 0);
  if (k_who[w].has_cert)
    assert_true(gnutls_certificate_set_x509_key_file(k->cred, g->cert[w], g->pkey[w], GNUTLS_X509_FMT_PEM) >= 0);
  assert_true(gnutls_init(&k->s, GNUTLS_CLIENT) >= 0);
  assert_true(gnutls_set_default_priority(k->s) >= 0);
  assert_true(gnutls_credentials_set(k->s, GNUTLS_CRD_CERTIFICATE, k->cred) >= 0);
  gnutls_session_set_verify_cert(k->s, "localhost", 0);
  gnutls_transport_set_int(k->s, k->fd);
  gnutls_handshake_set_timeout(k->s, 10000);
  do
    r = gnutls_handshake(k->s);
  while (r < 0 && !gnutls_error_is_fatal(r));
  /* reads from now on never block: a TLS 1.3 ticket alone must not hold a read */
  fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
  if (r < 0) {
    print_message("  %-8s handshake: %s\n", k_who[w].name, gnutls_strerror(r));
    k->closed = 1;
    return -1;
  }
  return 0;
}

static void conn_close(conn *k)
{
  if (k->s)
    gnutls_deinit(k->s);
  if (k->cred)
    gnutls_certificate_free_credentials(k->cred);
  if (k->fd > 0)
    close(k->fd);
  vg_buf_free(&k->in);
  memset(k, 0, sizeof *k);
}

static int64_t ms_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first @p needle in [p, end), or NULL (the received bytes are not NUL-terminated). */
static const char *find(const char *p, const char *end, const char *needle)
{
  size_t n = strlen(needle);
  for (; p && p + n <= end; p++)
    if (!memcmp(p, needle, n))
      return p;
  return NULL;
}

static int has(const conn *k, const char *needle)
{
  return k->in.data && find((const char *)k->in.data, (const char *)k->in.data + k->in.len, needle) != NULL;
}

static size_t count_events(const conn *k)
{
  size_t n = 0;
  const char *p = (const char *)k->in.data + k->parsed, *end = (const char *)k->in.data + k->in.len;
  if (!k->in.data)
    return 0;
  while (p < end && (p = find(p, end, "</event>\n"))) {
    n++;
    p += 9;
  }
  return n;
}

/*
 * Reads until @p want new events are in (0: until @p ms pass), the peer
 * closes, or @p ms pass. Returns the number of new complete events.
 */
static size_t conn_read(conn *k, size_t want, int ms)
{
  int64_t end = ms_now() + ms;
  while (!k->closed && (!want || count_events(k) < want)) {
    char buf[4096];
    ssize_t n;
    int64_t left = end - ms_now();
    if (!gnutls_record_check_pending(k->s)) {
      struct pollfd pf = {k->fd, POLLIN, 0};
      if (left <= 0)
        break;
      if (poll(&pf, 1, (int)left) <= 0)
        continue;
    }
    n = gnutls_record_recv(k->s, buf, sizeof buf);
    if (n > 0)
      assert_int_equal(vg_buf_append(&k->in, buf, (size_t)n), VG_OK);
    else if (n == 0 || gnutls_error_is_fatal((int)n))
      k->closed = 1;
  }
  return count_events(k);
}

/* Splits the new events of @p k into g->got[w] (and checks each one's shape). */
static size_t take_events(conn *k, int w, uint32_t *ids, uint32_t *retracted)
{
  size_t n = 0;
  *ids = *retracted = 0;
  for (;;) {
    const char *p = (const char *)k->in.data + k->parsed, *end = (const char *)k->in.data + k->in.len, *e, *u;
    event *ev;
    size_t len;
    if (p >= end || !(e = find(p, end, "</event>\n")))
      break;
    len = (size_t)(e + 9 - p);
    assert_true(g->ngot[w] < MAX_EV);
    ev = &g->got[w][g->ngot[w]++];
    assert_memory_equal(p, "<event version=\"2.0\" uid=\"vigia-site-", 37);
    ev->id = strtol(p + 37, NULL, 10);
    assert_true(ev->id > 0 && ev->id < 32);
    u = find(p, e, "type=\"");
    assert_non_null(u);
    ev->retract = !strncmp(u + 6, "t-x-d-d\"", 8);
    if (ev->retract) {
      char link[96];
      snprintf(link, sizeof link, "<detail><link uid=\"vigia-site-%ld\" relation=\"none\" type=\"a-u-G\"/></detail>",
               ev->id);
      assert_non_null(find(p, e, link));
      *retracted |= B(ev->id);
    } else {
      assert_int_equal(strncmp(u + 6, "a-u-G\"", 6), 0);
      *ids |= B(ev->id);
    }
    assert_non_null(find(p, e, "opex=\"e-TEST\""));
    vg_audit_digest(p, len, ev->digest);
    k->parsed += len;
    n++;
  }
  assert_int_equal(k->parsed, k->in.len); /* nothing outside events */
  return n;
}

/* A refused client: the connection ends without a byte of data. */
static void assert_refused(int w)
{
  conn k;
  if (conn_open(&k, w) == 0)
    conn_read(&k, 0, 5000);
  print_message("  %-8s closed %d, %zu bytes\n", k_who[w].name, k.closed, k.in.len);
  assert_true(k.closed);
  assert_int_equal(k.in.len, 0);
  conn_close(&k);
}

/* Validates @p k's whole stream with tests/products/validate.py (MITRE Event-PUBLIC.xsd + TAK overlay). */
static void validate_stream(const conn *k, const char *name)
{
  char *xsd = vg_test_data_path("formats/cot/mitre/Event-PUBLIC.xsd"), *formats, cot[160], work[160], cmd[1024],
       script[512];
  const char *ci = getenv("CI"), *slash;
  FILE *f;
  if (!xsd) {
    if (ci && !strcmp(ci, "true"))
      fail_msg("formats/cot/mitre/Event-PUBLIC.xsd is absent (set VIGIA_DATA); under CI this is a failure");
    print_message("DATA ABSENT: formats/cot/mitre/Event-PUBLIC.xsd (set VIGIA_DATA); schema validation skipped\n");
    return;
  }
  formats = xsd;
  *strstr(formats, "/cot/mitre/Event-PUBLIC.xsd") = 0;
  slash = strrchr(__FILE__, '/');
  snprintf(script, sizeof script, "%.*s/../products/validate.py", slash ? (int)(slash - __FILE__) : 1,
           slash ? __FILE__ : ".");
  snprintf(cot, sizeof cot, "%s/%s.cot", g->dir, name);
  snprintf(work, sizeof work, "%s/work-%s", g->dir, name);
  assert_int_equal(mkdir(work, 0700), 0);
  f = fopen(cot, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(k->in.data, 1, k->in.len, f), k->in.len);
  assert_int_equal(fclose(f), 0);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' '%s' '%s'", script, formats, work, cot);
  print_message("  %s\n", cmd);
  assert_int_equal(system(cmd), 0);
  free(xsd);
}

/* ---- set up ----------------------------------------------------------------------------------- */

static int open_stream(void)
{
  vg_cot_opts o = VG_COT_OPTS_INIT;
  o.db = g->db;
  o.cert = g->srv_cert;
  o.key = g->srv_key;
  o.ca = g->ca;
  o.partners = g->partners;
  o.audit = g->log;
  o.exercise = 1;
  if (vg_cot_stream_open(&g->st, &o) != VG_OK) {
    print_message("cot: %s\n", vg_error_last());
    return -1;
  }
  g->port = vg_cot_stream_port(g->st);
  return g->port ? 0 : -1;
}

static int group_setup(void **state)
{
  vg_audit_opts ao = VG_AUDIT_OPTS_INIT;
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  if (!(g = calloc(1, sizeof *g)))
    return -1;
  snprintf(g->dir, sizeof g->dir, "/tmp/vg_cot_XXXXXX");
  if (!mkdtemp(g->dir))
    return -1;
#define P(field, name) snprintf(g->field, sizeof g->field, "%s/%s", g->dir, name)
  P(ca, "ca.pem");
  P(srv_cert, "server.pem");
  P(srv_key, "server.key");
  P(partners, "partners.json");
  P(audit, "audit.log");
  P(key, "audit.key");
  P(db, "register.db");
#undef P
  for (int w = 0; w < W_N; w++) {
    char dir[sizeof g->dir];
    memcpy(dir, g->dir, sizeof dir);
    snprintf(g->cert[w], sizeof g->cert[w], "%s/%s.pem", dir, k_who[w].name);
    snprintf(g->pkey[w], sizeof g->pkey[w], "%s/%s.key", dir, k_who[w].name);
  }
  if (gnutls_global_init() < 0)
    return -1;
  if (vg_tsrv_pki(k_who, W_N, g->ca, NULL, g->srv_cert, g->srv_key, g->partners, g->cert, g->pkey)) {
    print_message("PKI failed\n");
    return -1;
  }
  if (vg_tsrv_register(g->db) != VG_OK) {
    print_message("register: %s\n", vg_error_last());
    return -1;
  }
  if (vg_audit_keygen(g->key, NULL) != VG_OK || vg_audit_open(&g->log, g->audit, g->key, &ao) != VG_OK)
    return -1;
  return open_stream();
}

static int group_teardown(void **state)
{
  char cmd[128];
  (void)state;
  if (!g)
    return 0;
  conn_close(&g->mex);
  conn_close(&g->gbr);
  vg_cot_stream_close(g->st);
  vg_audit_close(g->log);
  gnutls_global_deinit();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->dir);
  if (system(cmd) != 0)
    print_message("could not remove %s\n", g->dir);
  free(g);
  g = NULL;
  return 0;
}

/* ---- the tests --------------------------------------------------------------------------------- */

static void test_connect(void **state)
{
  uint32_t ids, gone;
  (void)state;
  assert_int_equal(conn_open(&g->mex, W_MEX), 0);
  assert_int_equal(conn_open(&g->gbr, W_GBR), 0);
  /* what is released to each, and nothing more (a grace period after the expected count) */
  conn_read(&g->mex, 2, 10000);
  conn_read(&g->gbr, 1, 10000);
  conn_read(&g->mex, 0, 300);
  conn_read(&g->gbr, 0, 300);
  assert_false(g->mex.closed);
  assert_false(g->gbr.closed);
  assert_int_equal(take_events(&g->mex, W_MEX, &ids, &gone), 2);
  print_message("  mex-ops: sites 0x%03x\n", ids);
  assert_int_equal(ids, B(1) | B(7));
  assert_int_equal(gone, 0);
  assert_int_equal(take_events(&g->gbr, W_GBR, &ids, &gone), 1);
  print_message("  gbr-ops: sites 0x%03x\n", ids);
  assert_int_equal(ids, B(3));
  assert_true(has(&g->mex, "uid=\"vigia-site-1\""));
  assert_true(has(&g->mex, "uid=\"vigia-site-7\""));
  assert_true(has(&g->mex, "access=\"UNCLASSIFIED//REL TO USA, MEX\""));
  validate_stream(&g->mex, "mex-initial");
  validate_stream(&g->gbr, "gbr-initial");
}

static void test_refused(void **state)
{
  (void)state;
  assert_refused(W_ROGUE);
  assert_refused(W_NONE);
  assert_refused(W_REVOKED);
}

static void test_publish(void **state)
{
  vg_register *r = NULL;
  uint32_t ids, gone;
  (void)state;
  /* nothing changed: nothing sent */
  assert_int_equal(vg_cot_stream_publish(g->st), VG_OK);
  assert_int_equal(conn_read(&g->mex, 0, 300), 0);
  assert_int_equal(conn_read(&g->gbr, 0, 300), 0);
  /* site 1 dismissed: MEX gets its retraction, GBR nothing */
  assert_int_equal(vg_register_open(&r, g->db), VG_OK);
  assert_int_equal(vg_register_set_state(r, 1, VG_SITE_DISMISSED, "cot test"), VG_OK);
  vg_register_close(r);
  assert_int_equal(vg_cot_stream_publish(g->st), VG_OK);
  conn_read(&g->mex, 1, 5000);
  conn_read(&g->mex, 0, 300);
  assert_int_equal(conn_read(&g->gbr, 0, 300), 0);
  assert_int_equal(take_events(&g->mex, W_MEX, &ids, &gone), 1);
  assert_int_equal(ids, 0);
  assert_int_equal(gone, B(1));
  /* a publish more: nothing again */
  assert_int_equal(vg_cot_stream_publish(g->st), VG_OK);
  assert_int_equal(conn_read(&g->mex, 0, 300), 0);
  /* confirmed again: MEX gets site 1 again */
  assert_int_equal(vg_register_open(&r, g->db), VG_OK);
  assert_int_equal(vg_register_set_state(r, 1, VG_SITE_CONFIRMED, "cot test"), VG_OK);
  vg_register_close(r);
  assert_int_equal(vg_cot_stream_publish(g->st), VG_OK);
  conn_read(&g->mex, 1, 5000);
  conn_read(&g->mex, 0, 300);
  assert_int_equal(conn_read(&g->gbr, 0, 300), 0);
  assert_int_equal(take_events(&g->mex, W_MEX, &ids, &gone), 1);
  assert_int_equal(ids, B(1));
  assert_int_equal(gone, 0);
  /* an explicit retraction of site 7: MEX only */
  assert_int_equal(vg_cot_stream_retract_site(g->st, 7), VG_OK);
  conn_read(&g->mex, 1, 5000);
  assert_int_equal(conn_read(&g->gbr, 0, 300), 0);
  assert_int_equal(take_events(&g->mex, W_MEX, &ids, &gone), 1);
  assert_int_equal(gone, B(7));
  /* the whole stream so far, retractions included, validates */
  validate_stream(&g->mex, "mex-publish");
}

static void test_revoke(void **state)
{
  uint32_t ids, gone;
  (void)state;
  assert_int_equal(vg_cot_stream_revoke(g->st, "nobody"), VG_E_NOTFOUND);
  assert_int_equal(vg_cot_stream_revoke(g->st, "mex-ops"), VG_OK);
  /* its connection closed, with nothing more on it */
  conn_read(&g->mex, 0, 5000);
  assert_true(g->mex.closed);
  assert_int_equal(take_events(&g->mex, W_MEX, &ids, &gone), 0);
  /* a new connection refused */
  assert_refused(W_MEX);
  /* GBR still served, and a publish sends nothing to anyone */
  assert_int_equal(vg_cot_stream_publish(g->st), VG_OK);
  assert_int_equal(conn_read(&g->gbr, 0, 300), 0);
  assert_false(g->gbr.closed);
}

typedef struct replay {
  int w;
  size_t i;
} replay;

static int on_replay(const vg_audit_entry *e, uint64_t line, void *ud)
{
  replay *r = ud;
  const event *ev;
  char product[48];
  (void)line;
  if (r->i >= g->ngot[r->w])
    fail_msg("%s: audit entry %s beyond the %zu events received", k_who[r->w].name, e->product, g->ngot[r->w]);
  ev = &g->got[r->w][r->i++];
  snprintf(product, sizeof product, "%s/%ld", ev->retract ? "retract" : "site", ev->id);
  assert_string_equal(e->product, product);
  assert_string_equal(e->egress, "cot");
  assert_string_equal(e->version, "cot");
  assert_memory_equal(e->digest, ev->digest, VG_AUDIT_HASH_BYTES);
  return VG_OK;
}

static void test_audit(void **state)
{
  uint8_t pub[VG_AUDIT_PUB_BYTES], *log = NULL;
  char pubpath[160];
  vg_audit_report rep;
  size_t len = 0;
  (void)state;
  vg_cot_stream_close(g->st);
  g->st = NULL;
  assert_int_equal(vg_audit_close(g->log), VG_OK);
  g->log = NULL;
  snprintf(pubpath, sizeof pubpath, "%s.pub", g->key);
  assert_int_equal(vg_audit_pub_load(pubpath, pub), VG_OK);
  assert_int_equal(vg_audit_verify(g->audit, pub, &rep), VG_OK);
  print_message("  audit: %llu entries, %llu checkpoints\n", (unsigned long long)rep.entries,
                (unsigned long long)rep.checkpoints);
  for (int w = W_MEX; w <= W_GBR; w++) {
    replay r = {w, 0};
    assert_int_equal(vg_audit_replay(g->audit, pub, k_who[w].name, on_replay, &r, &rep), VG_OK);
    print_message("  replay %-8s %zu entries, %zu events received\n", k_who[w].name, r.i, g->ngot[w]);
    assert_int_equal(r.i, g->ngot[w]);
  }
  assert_int_equal(g->ngot[W_MEX], 5); /* 1, 7, retract 1, 1, retract 7 */
  assert_int_equal(g->ngot[W_GBR], 1);
  /* the refusals are on record */
  assert_int_equal(vg_test_read_file(g->audit, &log, &len), 0);
  log = realloc(log, len + 1);
  assert_non_null(log);
  log[len] = 0;
  assert_non_null(strstr((char *)log, "partner mex-old is revoked"));
  assert_non_null(strstr((char *)log, "partner mex-ops is revoked"));
  assert_non_null(strstr((char *)log, "does not verify against the partners' CA"));
  assert_non_null(strstr((char *)log, "\"recipient\":\"cert:"));
  assert_non_null(strstr((char *)log, "TLS handshake failed"));
  assert_non_null(strstr((char *)log, "\"product\":\"partner/mex-ops\""));
  free(log);
}

int test_server_cot_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_connect), cmocka_unit_test(test_refused), cmocka_unit_test(test_publish),
    cmocka_unit_test(test_revoke),  cmocka_unit_test(test_audit),
  };
  return cmocka_run_group_tests_name("server_cot", tests, group_setup, group_teardown);
}
