/*
 * bench_serve: the sharing server under load (issue 8), against nginx serving
 * an equal static file in the same run (DESIGN.md convention 11).
 *
 *   usage: bench_serve [SECONDS [CONNECTIONS]]   (default 60 s, 32 connections)
 *
 * 1. Set up, in a temporary directory: a PKI made with GnuTLS (partners' CA,
 *    server certificate for 127.0.0.1/localhost, the client certificate of
 *    partner mex-ops, UNCLASSIFIED), a register of BENCH_ROWS x BENCH_COLS
 *    confirmed sites on a grid of 0.01 deg whose markings cycle through
 *    k_mark (2 of 5 released to MEX), an audit key. vg_server runs in this
 *    process on a free port of 127.0.0.1, with its request log in a file.
 * 2. Load: libcurl multi, CONNECTIONS concurrent transfers (HTTP/1.1,
 *    keep-alive, client certificate), each completed transfer replaced at
 *    once, for SECONDS, all of them
 *      GET /collections/sites/items?limit=10&bbox=...
 *    as mex-ops. The box holds 5 x 5 sites, 10 of them released to MEX: each
 *    request returns 10 features and writes 25 audit entries (10 allow, 15
 *    deny), each fsync'd before the response leaves. Figures: requests/s,
 *    latency p50/p99/max (CURLINFO_TOTAL_TIME_T, in a fixed histogram of
 *    10 us buckets), errors (transfer error or status other than 200), and
 *    this process's RSS at 10 %, 50 % and 100 % of the run.
 *    libmicrohttpd is given a per-address limit of VG_SERVER_CONN_PER_IP
 *    connections, so the generator spreads its connections over as many
 *    loopback source addresses (127.0.0.1, 127.0.0.2, ...) as needed.
 * 3. Peer: when nginx is on PATH, nginx with the same certificate and key,
 *    ssl_verify_client on against the same CA, 2 worker processes (one per
 *    core of the 2-core machine this was written on), keep-alive without a
 *    request cap, an access log, and the same security headers, serving as a
 *    static file the exact bytes vigia answered for the same query. The same
 *    generator runs against it for SECONDS; then the ratios vigia / nginx.
 *
 * Caveat, for both runs: the load generator runs in this process, on the
 * same cores as the server it measures.
 *
 * Targets (issue 8): >= 5000 requests/s, p99 < 20 ms, no errors, memory flat.
 * Exit status: 0 (whatever the speed), 1 when the set-up fails.
 */
#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vigia/server.h"
#include "vigia/sites.h"
#include "test_server_fixture.h"

/* The register: a grid of rows x cols sites, 0.01 deg apart (about 1.1 km: never fused). */
#define BENCH_ROWS 10
#define BENCH_COLS 20
#define BENCH_GRID_DEG 0.01
#define BENCH_LAT0 17.85
#define BENCH_LON0 (-99.95)
/* The query's box: 5 x 5 sites from (row 3, col 5). */
#define BENCH_BOX_R0 3
#define BENCH_BOX_C0 5
#define BENCH_BOX_N 5
#define BENCH_LIMIT 10
/* Latency histogram: 10 us buckets up to 2 s (beyond: the last bucket; max is exact). */
#define HIST_US 10
#define HIST_N 200000
/* Defaults and bounds of the arguments. */
#define BENCH_SECONDS 60
#define BENCH_CONNS 32
#define BENCH_CONNS_MAX 1024
/* Targets. */
#define TARGET_RPS 5000.0
#define TARGET_P99_MS 20.0

#define DEG (3.14159265358979323846 / 180.0)
#define T_BASE 1780300800LL /* 2026-06-01T08:00:00Z */

/* Markings, cycled by site index: 0 and 4 are released to MEX (cleared UNCLASSIFIED). */
static const char *const k_mark[5] = {
  "UNCLASSIFIED//REL TO USA, MEX", "UNCLASSIFIED//REL TO USA, GBR", "CONFIDENTIAL//REL TO USA, MEX",
  "SECRET//NOFORN",                "UNCLASSIFIED//REL TO USA, GBR, MEX",
};

typedef struct paths {
  char dir[64];
  char ca[128], srv_cert[128], srv_key[128], partners[128], audit[128], key[128], db[128], log[128];
  char cert[128], pkey[128];
  char ngx[128], ngx_conf[160], ngx_body[160];
} paths;

static paths g;

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sleep_ms(long ms)
{
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* VmRSS of process @p pid (0: this one), in KiB; -1 when unknown. */
static long rss_kib(pid_t pid)
{
  char path[64], line[256];
  long v = -1;
  FILE *f;
  if (pid)
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  else
    snprintf(path, sizeof path, "/proc/self/status");
  if (!(f = fopen(path, "r")))
    return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) {
      v = strtol(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

/* ---- PKI (helpers: tests/support/test_pki.c) ------------------------------------------------ */

/* The CA, the server's pair, mex-ops's pair and the partners file naming it. */
static int make_pki(void)
{
  static const vg_tsrv_who mex = {"mex-ops", "MEX", "UNCLASSIFIED", "partner", 0, 1, 1};
  return vg_tsrv_pki(&mex, 1, g.ca, NULL, g.srv_cert, g.srv_key, g.partners, &g.cert, &g.pkey);
}

/* ---- the register --------------------------------------------------------------------------- */

static int make_register(void)
{
  vg_register *r = NULL;
  vg_fuse_params confirm_all;
  vg_obs *o;
  size_t n = (size_t)BENCH_ROWS * BENCH_COLS;
  int rc;
  vg_fuse_params_default(&confirm_all);
  confirm_all.confirm = -100; /* every site confirmed from its first detection */
  if (!(o = calloc(n, sizeof *o)))
    return VG_E_NOMEM;
  for (size_t i = 0; i < n; i++) {
    int row = (int)(i / BENCH_COLS), col = (int)(i % BENCH_COLS);
    snprintf(o[i].flight, sizeof o[i].flight, "bench-serve");
    snprintf(o[i].detector, sizeof o[i].detector, "%s", vg_evidence_name(VG_EVID_THERMAL));
    o[i].frame = (int64_t)i;
    o[i].kind = VG_EVID_THERMAL;
    o[i].time_us = (T_BASE + (int64_t)i * 60) * 1000000LL;
    o[i].lat = BENCH_LAT0 + row * BENCH_GRID_DEG;
    o[i].lon = BENCH_LON0 + col * BENCH_GRID_DEG;
    o[i].hae = 950;
    o[i].cov_en[0] = o[i].cov_en[3] = 16;
    o[i].sigma_up = 5;
    o[i].score = 1;
    o[i].marking = k_mark[i % 5];
  }
  if ((rc = vg_register_open(&r, g.db)) == VG_OK)
    rc = vg_register_ingest(r, o, n, &confirm_all, NULL);
  vg_register_close(r);
  free(o);
  return rc;
}

/* ---- the load generator --------------------------------------------------------------------- */

typedef struct run {
  const char *name;
  pid_t peer;         /* nginx's master (its RSS and its workers'), 0: in process */
  double seconds;     /* of load, without the drain */
  double elapsed;     /* until the last transfer completed */
  uint64_t done, errors, bytes, connects;
  uint64_t bad_status, bad_transfer;
  long first_status;
  CURLcode first_cc;
  uint32_t *hist; /* HIST_N buckets of HIST_US */
  int64_t max_us;
  long rss[3], peer_rss[3]; /* at 10 %, 50 %, 100 % */
  double p50_ms, p99_ms, max_ms, rps;
} run;

typedef struct xfer {
  CURL *c;
  uint64_t bytes;
} xfer;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
  xfer *x = ud;
  (void)p;
  x->bytes += sz * n;
  return sz * n;
}

/* RSS of nginx's master and its children (the workers), KiB. */
static long peer_rss(pid_t master)
{
  long sum = rss_kib(master);
  char path[64], buf[512];
  FILE *f;
  if (sum < 0)
    return -1;
  /* the workers: /proc/PID/task/PID/children (Linux >= 3.5 with CONFIG_PROC_CHILDREN), else none */
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)master, (int)master);
  if ((f = fopen(path, "r"))) {
    if (fgets(buf, sizeof buf, f))
      for (char *p = buf, *e; *p; p = e) {
        long pid = strtol(p, &e, 10);
        if (e == p)
          break;
        if (pid > 0) {
          long v = rss_kib((pid_t)pid);
          if (v > 0)
            sum += v;
        }
      }
    fclose(f);
  }
  return sum;
}

static double hist_pct(const run *r, double q)
{
  uint64_t want = (uint64_t)(q * (double)r->done), acc = 0;
  if (want >= r->done && r->done)
    want = r->done - 1;
  for (size_t i = 0; i < HIST_N; i++) {
    acc += r->hist[i];
    if (acc > want)
      return (double)(i * HIST_US + HIST_US / 2) / 1000.0;
  }
  return (double)r->max_us / 1000.0;
}

static void setup_handle(xfer *x, const char *url, unsigned i)
{
  char iface[32];
  /* libmicrohttpd's per-address limit: VG_SERVER_CONN_PER_IP connections from each source address */
  snprintf(iface, sizeof iface, "host!127.0.0.%u", 1 + i / VG_SERVER_CONN_PER_IP);
  curl_easy_setopt(x->c, CURLOPT_URL, url);
  curl_easy_setopt(x->c, CURLOPT_INTERFACE, iface);
  curl_easy_setopt(x->c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(x->c, CURLOPT_SSLCERT, g.cert);
  curl_easy_setopt(x->c, CURLOPT_SSLKEY, g.pkey);
  curl_easy_setopt(x->c, CURLOPT_CAINFO, g.ca);
  curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(x->c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(x->c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->c, CURLOPT_PRIVATE, (void *)x);
}

/* CONNECTIONS concurrent transfers of @p url for r->seconds, each completed one replaced at once. */
static int load(run *r, const char *url, unsigned conns)
{
  CURLM *m = curl_multi_init();
  xfer *x = calloc(conns, sizeof *x);
  double t0, t_end, mark[3];
  int running = 0, active = 0, next_mark = 0, rc = -1;
  if (!m || !x || !(r->hist = calloc(HIST_N, sizeof *r->hist)))
    goto done;
  memset(r->hist, 0, HIST_N * sizeof *r->hist); /* resident before the first RSS reading */
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)conns);
  for (unsigned i = 0; i < conns; i++) {
    if (!(x[i].c = curl_easy_init()))
      goto done;
    setup_handle(&x[i], url, i);
  }
  r->first_status = 200;
  r->first_cc = CURLE_OK;
  t0 = now_s();
  t_end = t0 + r->seconds;
  for (int k = 0; k < 3; k++)
    mark[k] = t0 + r->seconds * (k == 0 ? 0.1 : k == 1 ? 0.5 : 1.0);
  for (unsigned i = 0; i < conns; i++) {
    curl_multi_add_handle(m, x[i].c);
    active++;
  }
  while (active > 0) {
    CURLMsg *msg;
    int left;
    double t;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left))) {
      CURL *c;
      xfer *xx = NULL;
      long status = 0;
      curl_off_t us = 0;
      if (msg->msg != CURLMSG_DONE)
        continue;
      c = msg->easy_handle;
      curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&xx);
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &us);
      {
        long nc = 0;
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
        r->connects += (uint64_t)nc;
      }
      r->done++;
      if (msg->data.result != CURLE_OK || status != 200) {
        if (r->errors == 0) {
          r->first_status = status;
          r->first_cc = msg->data.result;
        }
        r->errors++;
        if (msg->data.result != CURLE_OK)
          r->bad_transfer++;
        else
          r->bad_status++;
      }
      if (us > r->max_us)
        r->max_us = us;
      r->hist[us / HIST_US < HIST_N ? (size_t)(us / HIST_US) : HIST_N - 1]++;
      curl_multi_remove_handle(m, c);
      if (xx) {
        r->bytes += xx->bytes;
        xx->bytes = 0;
      }
      if (now_s() < t_end)
        curl_multi_add_handle(m, c);
      else
        active--;
    }
    t = now_s();
    while (next_mark < 3 && t >= mark[next_mark]) {
      r->rss[next_mark] = rss_kib(0);
      r->peer_rss[next_mark] = r->peer ? peer_rss(r->peer) : -1;
      next_mark++;
    }
    if (active > 0)
      curl_multi_poll(m, NULL, 0, 50, NULL);
  }
  r->elapsed = now_s() - t0;
  while (next_mark < 3) {
    r->rss[next_mark] = rss_kib(0);
    r->peer_rss[next_mark] = r->peer ? peer_rss(r->peer) : -1;
    next_mark++;
  }
  r->rps = r->elapsed > 0 ? (double)r->done / r->elapsed : 0;
  r->p50_ms = hist_pct(r, 0.50);
  r->p99_ms = hist_pct(r, 0.99);
  r->max_ms = (double)r->max_us / 1000.0;
  rc = 0;
done:
  for (unsigned i = 0; x && i < conns; i++)
    if (x[i].c)
      curl_easy_cleanup(x[i].c);
  free(x);
  if (m)
    curl_multi_cleanup(m);
  return rc;
}

static void print_run(const run *r)
{
  printf("  %-6s %9.0f requests/s  (%llu in %.1f s)   p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", r->name, r->rps,
         (unsigned long long)r->done, r->elapsed, r->p50_ms, r->p99_ms, r->max_ms);
  printf("         errors %llu (transfer %llu, status != 200 %llu", (unsigned long long)r->errors,
         (unsigned long long)r->bad_transfer, (unsigned long long)r->bad_status);
  if (r->errors)
    printf("; first: curl %d \"%s\", status %ld", (int)r->first_cc, curl_easy_strerror(r->first_cc), r->first_status);
  printf(")   new connections %llu   body bytes/request %.0f\n", (unsigned long long)r->connects,
         r->done ? (double)r->bytes / (double)r->done : 0.0);
  if (r->done && r->connects * 2 > r->done)
    printf("         keep-alive refused: the server closed most connections after one response\n"
           "         (so most requests paid a full TLS handshake with client certificate)\n");
  printf("         RSS of this process at 10/50/100 %%: %ld / %ld / %ld KiB (growth %+ld KiB)\n", r->rss[0], r->rss[1],
         r->rss[2], r->rss[2] - r->rss[0]);
  if (r->peer)
    printf("         RSS of nginx (master + workers) at 10/50/100 %%: %ld / %ld / %ld KiB (growth %+ld KiB)\n",
           r->peer_rss[0], r->peer_rss[1], r->peer_rss[2], r->peer_rss[2] - r->peer_rss[0]);
}

/* ---- one request, to fetch the body nginx will serve --------------------------------------- */

typedef struct grab {
  char *p;
  size_t n;
} grab;

static size_t on_grab(char *p, size_t sz, size_t n, void *ud)
{
  grab *b = ud;
  char *q = realloc(b->p, b->n + sz * n + 1);
  if (!q)
    return 0;
  memcpy(q + b->n, p, sz * n);
  b->p = q;
  b->n += sz * n;
  b->p[b->n] = 0;
  return sz * n;
}

static int fetch(const char *url, grab *b, long *status)
{
  CURL *c = curl_easy_init();
  CURLcode cc;
  if (!c)
    return -1;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_SSLCERT, g.cert);
  curl_easy_setopt(c, CURLOPT_SSLKEY, g.pkey);
  curl_easy_setopt(c, CURLOPT_CAINFO, g.ca);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_grab);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
  cc = curl_easy_perform(c);
  *status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  curl_easy_cleanup(c);
  if (cc != CURLE_OK)
    fprintf(stderr, "bench_serve: %s: %s\n", url, curl_easy_strerror(cc));
  return cc == CURLE_OK ? 0 : -1;
}

/* ---- nginx ------------------------------------------------------------------------------------ */

static int on_path(const char *prog, char *out, size_t cap)
{
  const char *path = getenv("PATH");
  char dirs[4096];
  static const char *const k_extra = "/usr/sbin:/usr/local/sbin:/sbin";
  snprintf(dirs, sizeof dirs, "%s:%s", path ? path : "", k_extra);
  for (char *s = dirs, *e; s && *s; s = e ? e + 1 : NULL) {
    e = strchr(s, ':');
    if (e)
      *e = 0;
    if (!*s)
      continue;
    if (snprintf(out, cap, "%s/%s", s, prog) >= (int)cap)
      continue;
    if (access(out, X_OK) == 0)
      return 1;
  }
  return 0;
}

static unsigned free_port(void)
{
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  unsigned port = 0;
  if (fd < 0)
    return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

static int port_open(unsigned port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
  if (fd < 0)
    return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static int write_file(const char *path, const void *p, size_t n, mode_t mode)
{
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(p, 1, n, f) == n;
  if (f && fclose(f) != 0)
    ok = 0;
  return ok && chmod(path, mode) == 0 ? 0 : -1;
}

/* Writes the configuration and starts nginx as a child (daemon off: the child is the master). */
static pid_t nginx_start(const char *bin, unsigned port, const grab *body)
{
  char conf[4096], err[200];
  pid_t pid;
  int n;
  /* the workers run as nobody when we are root: they must reach the body (not the keys) */
  if (chmod(g.dir, 0711) != 0 || mkdir(g.ngx, 0755) != 0 || write_file(g.ngx_body, body->p, body->n, 0644))
    return -1;
  n = snprintf(conf, sizeof conf,
               "daemon off;\n"
               "master_process on;\n"
               "worker_processes 2;\n"
               "pid %s/nginx.pid;\n"
               "error_log %s/error.log warn;\n"
               "events { worker_connections 1024; }\n"
               "http {\n"
               "  access_log %s/access.log;\n"
               "  client_body_temp_path %s/client_body;\n"
               "  proxy_temp_path %s/proxy;\n"
               "  fastcgi_temp_path %s/fastcgi;\n"
               "  uwsgi_temp_path %s/uwsgi;\n"
               "  scgi_temp_path %s/scgi;\n"
               "  keepalive_timeout 65;\n"
               "  keepalive_requests 100000000;\n"
               "  server {\n"
               "    listen 127.0.0.1:%u ssl;\n"
               "    ssl_certificate %s;\n"
               "    ssl_certificate_key %s;\n"
               "    ssl_client_certificate %s;\n"
               "    ssl_verify_client on;\n"
               "    ssl_protocols TLSv1.2 TLSv1.3;\n"
               "    location = /collections/sites/items {\n"
               "      default_type application/geo+json;\n"
               "      add_header Content-Security-Policy \"default-src 'self'\" always;\n"
               "      add_header X-Content-Type-Options nosniff always;\n"
               "      add_header Cache-Control no-store always;\n"
               "      alias %s;\n"
               "    }\n"
               "  }\n"
               "}\n",
               g.ngx, g.ngx, g.ngx, g.ngx, g.ngx, g.ngx, g.ngx, g.ngx, port, g.srv_cert, g.srv_key, g.ca, g.ngx_body);
  if (n < 0 || (size_t)n >= sizeof conf || write_file(g.ngx_conf, conf, (size_t)n, 0644))
    return -1;
  snprintf(err, sizeof err, "%s/error.log", g.ngx);
  fflush(NULL);
  if ((pid = fork()) < 0)
    return -1;
  if (pid == 0) {
    execl(bin, bin, "-q", "-e", err, "-c", g.ngx_conf, "-p", g.ngx, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 100; i++) {
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      fprintf(stderr, "bench_serve: nginx exited at start (see %s)\n", err);
      return -1;
    }
    if (port_open(port))
      return pid;
    sleep_ms(50);
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  return -1;
}

static void nginx_stop(pid_t pid)
{
  int st;
  kill(pid, SIGQUIT); /* graceful: workers finish, then the master exits */
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid)
      return;
    sleep_ms(50);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
}

/* ---- main ------------------------------------------------------------------------------------- */

static void cleanup(void)
{
  char cmd[128];
  if (!g.dir[0])
    return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_serve: could not remove %s\n", g.dir);
}

static void verdict(const char *what, int met)
{
  printf("  %-34s %s\n", what, met ? "MET" : "BELOW");
}

int main(int argc, char **argv)
{
  double seconds = argc > 1 ? atof(argv[1]) : BENCH_SECONDS;
  long conns = argc > 2 ? strtol(argv[2], NULL, 10) : BENCH_CONNS;
  vg_server_opts o = VG_SERVER_OPTS_INIT;
  vg_server *srv = NULL;
  FILE *logf = NULL;
  grab body = {NULL, 0};
  run rv, rn;
  char url[512], query[256], nginx_bin[512];
  double lat0, lon0, lat1, lon1;
  long status = 0;
  struct stat st;
  int rc = 1, have_nginx;
  unsigned nsrc;
  memset(&rv, 0, sizeof rv);
  memset(&rn, 0, sizeof rn);
  if (argc > 3 || !(seconds > 0 && seconds <= 86400) || conns < 1 || conns > BENCH_CONNS_MAX) {
    fprintf(stderr, "usage: bench_serve [SECONDS (default %d)] [CONNECTIONS (default %d, at most %d)]\n",
            BENCH_SECONDS, BENCH_CONNS, BENCH_CONNS_MAX);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  snprintf(g.dir, sizeof g.dir, "/tmp/vg_bench_serve_XXXXXX");
  if (!mkdtemp(g.dir)) {
    g.dir[0] = 0;
    perror("bench_serve: mkdtemp");
    return 1;
  }
#define P(field, name) snprintf(g.field, sizeof g.field, "%s/%s", g.dir, name)
  P(ca, "ca.pem");
  P(srv_cert, "server.pem");
  P(srv_key, "server.key");
  P(partners, "partners.json");
  P(audit, "audit.log");
  P(key, "audit.key");
  P(db, "register.db");
  P(log, "requests.log");
  P(cert, "mex-ops.pem");
  P(pkey, "mex-ops.key");
  P(ngx, "nginx");
#undef P
  snprintf(g.ngx_conf, sizeof g.ngx_conf, "%s/nginx.conf", g.ngx);
  snprintf(g.ngx_body, sizeof g.ngx_body, "%s/items.json", g.ngx);
  if (gnutls_global_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "bench_serve: GnuTLS or libcurl init failed\n");
    goto out;
  }
  if (make_pki()) {
    fprintf(stderr, "bench_serve: PKI failed\n");
    goto out;
  }
  if (make_register() != VG_OK) {
    fprintf(stderr, "bench_serve: register: %s\n", vg_error_last());
    goto out;
  }
  if (vg_audit_keygen(g.key, NULL) != VG_OK || !(logf = fopen(g.log, "w"))) {
    fprintf(stderr, "bench_serve: audit key or request log: %s\n", vg_error_last());
    goto out;
  }
  o.db = g.db;
  o.cert = g.srv_cert;
  o.key = g.srv_key;
  o.ca = g.ca;
  o.partners = g.partners;
  o.audit = g.audit;
  o.audit_key = g.key;
  o.bind = "127.0.0.1";
  o.port = 0;
  o.max_connections = (unsigned)conns > VG_SERVER_CONN_MAX ? (unsigned)conns : 0;
  o.log = logf;
  if (vg_server_start(&srv, &o) != VG_OK) {
    fprintf(stderr, "bench_serve: server: %s\n", vg_error_last());
    goto out;
  }
  lat0 = BENCH_LAT0 + (BENCH_BOX_R0 - 0.5) * BENCH_GRID_DEG;
  lat1 = BENCH_LAT0 + (BENCH_BOX_R0 + BENCH_BOX_N - 0.5) * BENCH_GRID_DEG;
  lon0 = BENCH_LON0 + (BENCH_BOX_C0 - 0.5) * BENCH_GRID_DEG;
  lon1 = BENCH_LON0 + (BENCH_BOX_C0 + BENCH_BOX_N - 0.5) * BENCH_GRID_DEG;
  snprintf(query, sizeof query, "/collections/sites/items?limit=%d&bbox=%.4f,%.4f,%.4f,%.4f", BENCH_LIMIT, lon0,
           lat0, lon1, lat1);
  snprintf(url, sizeof url, "https://127.0.0.1:%u%s", vg_server_port(srv), query);
  /* the body nginx will serve, and a check that the query is what it claims */
  if (fetch(url, &body, &status) || status != 200 || !body.p ||
      !strstr(body.p, "\"numberReturned\":10")) {
    fprintf(stderr, "bench_serve: first request: status %ld, %zu bytes: %.300s\n", status, body.n,
            body.p ? body.p : "");
    goto out;
  }
  nsrc = (unsigned)(conns + VG_SERVER_CONN_PER_IP - 1) / VG_SERVER_CONN_PER_IP;
  printf("bench_serve: %.0f s, %ld connections, as partner mex-ops (MEX, UNCLASSIFIED), client certificates\n",
         seconds, conns);
  printf("  register: %d confirmed sites, markings cycling over 5 (2 of 5 released to MEX)\n",
         BENCH_ROWS * BENCH_COLS);
  printf("  GET %s\n", query);
  printf("    box of %d sites, %d released to MEX: %d features per response (%zu bytes), %d audit entries\n",
         BENCH_BOX_N * BENCH_BOX_N, BENCH_BOX_N * 2, BENCH_LIMIT, body.n, BENCH_BOX_N * BENCH_BOX_N);
  printf("    per request (allow + deny, each fsync'd before the response leaves)\n");
  printf("  libcurl multi, HTTP/1.1 keep-alive, each completed transfer replaced at once; connections\n"
         "  spread over %u loopback source address(es) (libmicrohttpd allows %d per address)\n",
         nsrc, VG_SERVER_CONN_PER_IP);
  printf("  caveat: the load generator runs in this process, on the same %ld cores as the server\n"
         "  it measures (vigia and nginx alike)\n\n",
         sysconf(_SC_NPROCESSORS_ONLN));
  fflush(stdout);

  rv.name = "vigia";
  rv.seconds = seconds;
  if (load(&rv, url, (unsigned)conns)) {
    fprintf(stderr, "bench_serve: load generator failed\n");
    goto out;
  }
  if (vg_server_stop(srv) != VG_OK)
    fprintf(stderr, "bench_serve: server stop: %s\n", vg_error_last());
  srv = NULL;
  print_run(&rv);
  if (stat(g.audit, &st) == 0)
    printf("         audit chain afterwards: %.1f MB (%.0f bytes per request)\n", (double)st.st_size / 1e6,
           rv.done ? (double)st.st_size / (double)(rv.done + 1) : 0.0);
  fflush(stdout);

  have_nginx = on_path("nginx", nginx_bin, sizeof nginx_bin);
  if (have_nginx) {
    unsigned port = free_port();
    pid_t pid = port ? nginx_start(nginx_bin, port, &body) : -1;
    if (pid <= 0) {
      printf("\n  nginx (%s) did not start: no peer figures\n", nginx_bin);
      have_nginx = 0;
    } else {
      grab chk = {NULL, 0};
      snprintf(url, sizeof url, "https://127.0.0.1:%u%s", port, query);
      if (fetch(url, &chk, &status) || status != 200 || chk.n != body.n || memcmp(chk.p, body.p, body.n)) {
        printf("\n  nginx did not serve the same bytes (status %ld, %zu bytes): no peer figures\n", status, chk.n);
        have_nginx = 0;
      } else {
        rn.name = "nginx";
        rn.peer = pid;
        rn.seconds = seconds;
        printf("\n  peer: %s, 2 worker processes (one per core), ssl_verify_client on, same certificate,\n"
               "  key and CA, serving the same %zu bytes as a static file\n",
               nginx_bin, body.n);
        fflush(stdout);
        if (load(&rn, url, (unsigned)conns))
          have_nginx = 0;
        else
          print_run(&rn);
      }
      free(chk.p);
      nginx_stop(pid);
    }
  } else
    printf("\n  nginx is not on PATH: no peer figures (scripts/deps.sh installs it)\n");

  if (have_nginx)
    printf("\n  vigia / nginx: requests/s %.3f   p99 %.2f\n", rn.rps > 0 ? rv.rps / rn.rps : 0.0,
           rn.p99_ms > 0 ? rv.p99_ms / rn.p99_ms : 0.0);
  printf("\ntargets (issue 8), vigia:\n");
  {
    char w[64];
    snprintf(w, sizeof w, "requests/s >= %.0f (%.0f)", TARGET_RPS, rv.rps);
    verdict(w, rv.rps >= TARGET_RPS);
    snprintf(w, sizeof w, "p99 < %.0f ms (%.2f ms)", TARGET_P99_MS, rv.p99_ms);
    verdict(w, rv.p99_ms < TARGET_P99_MS);
    snprintf(w, sizeof w, "errors 0 (%llu)", (unsigned long long)rv.errors);
    verdict(w, rv.errors == 0);
  }
  printf("  memory growth (RSS at 100 %% minus at 10 %%): %+ld KiB\n", rv.rss[2] - rv.rss[0]);
  rc = 0;
out:
  if (srv)
    vg_server_stop(srv);
  if (logf)
    fclose(logf);
  free(body.p);
  free(rv.hist);
  free(rn.hist);
  curl_global_cleanup();
  gnutls_global_deinit();
  cleanup();
  return rc;
}
