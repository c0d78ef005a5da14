/*
 * The CoT stream (docs/formats/server.md, "CoT stream"): TAK protocol v0,
 * Cursor on Target XML events back to back over mutual TLS, as TAK Server's
 * streaming port 8089 (research/sharing.md 1, "Transport").
 *
 * Threads: one accepts, one per client does the handshake, the identity
 * check and the first send, then reads (and drops) what the client sends
 * until the connection ends. vg_cot_stream_publish, _retract_site and
 * _revoke run on the caller's thread. Locks, always taken in this order:
 * c_mu (the client slots), a client's mu (its session's sends and its sent
 * table), then reg_mu (the register connection) or p_mu (the partners
 * table). GnuTLS allows one thread receiving while another sends on the same
 * session; sends are serialised by the client's mu.
 *
 * Identity, as the HTTPS server (serve.c, vg__peer_verify): a certificate
 * required by the handshake (GNUTLS_CERT_REQUIRE), its chain verified
 * against the partners' CA (status 0), its SHA-256 fingerprint in the
 * partners file, not revoked. A refusal closes the connection before any
 * application data and leaves an audit "deny" entry (egress "cot").
 *
 * What a client gets: vg_products_collect for its recipient, confirmed sites
 * only; per site, the event vg_product_write(VG_PRODUCT_COT) writes for that
 * site alone, when its content (the event written at a fixed time) differs
 * from what this client last got; a retraction (t-x-d-d, same uid) for a
 * site it got that is no longer released to it. Every event is appended to
 * the audit chain (allow, with the BLAKE2b of its bytes) before it is sent:
 * a failed append disconnects the client and sends nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include "vigia/products.h"
#include "vigia/server.h"
#include "vigia/sites.h"

#include "server_int.h"

/* The time every event is written at to compare its content between sends (any fixed instant). */
#define KEY_TIME_US 946684800000000LL
#define KEY_BYTES 16

/* A site a client has received: the content key of the last event sent, and its banner. */
typedef struct sent {
  int64_t id;
  uint8_t key[KEY_BYTES];
  char banner[VG_MARKING_BANNER_MAX];
} sent;

typedef struct client {
  vg_cot_stream *st;
  pthread_t th;
  int used; /* the slot holds a thread to join (c_mu) */
  int done; /* that thread has finished (c_mu) */
  pthread_mutex_t mu;
  int fd;                /* -1 once closed (mu) */
  gnutls_session_t tls;  /* NULL once freed (mu) */
  int live;              /* identified: events may be sent (mu) */
  vg__partner who;       /* valid when live */
  sent *s;
  size_t ns, cap;
} client;

struct vg_cot_stream {
  int lfd;
  int wake[2];
  pthread_t acc;
  int acc_started;
  unsigned port, max;
  int exercise;
  vg_register *reg;
  pthread_mutex_t reg_mu;
  vg__partner *p;
  size_t np;
  pthread_mutex_t p_mu;
  vg_audit *audit;
  gnutls_certificate_credentials_t cred;
  gnutls_priority_t prio;
  pthread_mutex_t c_mu;
  client c[VG_COT_CLIENTS_MAX];
};

static const double k_world[4] = {-90, 90, -180, 180};

/* ---- small helpers ------------------------------------------------------------------------ */

static int64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void iso_time(int64_t us, char out[48])
{
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (int)((us % 1000000) / 1000));
}

/* A banner as an XML attribute value (banners are printable ASCII; escape anyway). */
static int put_attr(vg_buf *b, const char *s)
{
  int rc = VG_OK;
  for (; *s && rc == VG_OK; s++) {
    switch (*s) {
    case '&': rc = vg_buf_append(b, "&amp;", 5); break;
    case '<': rc = vg_buf_append(b, "&lt;", 4); break;
    case '>': rc = vg_buf_append(b, "&gt;", 4); break;
    case '"': rc = vg_buf_append(b, "&quot;", 6); break;
    default: rc = vg_buf_append(b, (unsigned char)*s < 0x20 ? "?" : s, 1);
    }
  }
  return rc;
}

static int audit(vg_cot_stream *st, const char *product, const uint8_t *digest, const char *marking,
                 const char *recipient, vg_audit_decision d, const char *why)
{
  vg_audit_entry e;
  memset(&e, 0, sizeof e);
  e.product = product;
  e.version = "cot";
  if (digest)
    memcpy(e.digest, digest, VG_AUDIT_HASH_BYTES);
  e.marking = marking ? marking : "";
  e.recipient = recipient;
  e.egress = "cot";
  e.decision = d;
  e.reason = why;
  e.policy = VG_RELEASE_POLICY;
  return vg_audit_append(st->audit, &e, NULL);
}

/* Sends all @p n bytes (caller holds c->mu). */
static int send_all(client *c, const void *p, size_t n)
{
  const char *b = p;
  while (n) {
    ssize_t w = gnutls_record_send(c->tls, b, n);
    if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
      continue;
    if (w <= 0)
      return vg_error_set(VG_E_IO, "cot: send to %s: %s", c->who.name, gnutls_strerror((int)w));
    b += w;
    n -= (size_t)w;
  }
  return VG_OK;
}

/* Ends a client's stream from another thread (caller holds c->mu): no more sends; its thread sees EOF. */
static void kill_client(client *c)
{
  c->live = 0;
  if (c->fd >= 0)
    shutdown(c->fd, SHUT_RDWR);
}

static sent *sent_find(client *c, int64_t id)
{
  for (size_t i = 0; i < c->ns; i++)
    if (c->s[i].id == id)
      return &c->s[i];
  return NULL;
}

static void sent_remove(client *c, sent *x)
{
  size_t i = (size_t)(x - c->s);
  memmove(&c->s[i], &c->s[i + 1], (c->ns - i - 1) * sizeof *c->s);
  c->ns--;
}

/* ---- events ------------------------------------------------------------------------------- */

/* The retraction of site @p id (TAK delete: type t-x-d-d, same uid, stale now, a link to the uid). */
static int write_retraction(vg_buf *b, int64_t id, const char *banner, int exercise)
{
  char t[48];
  int rc;
  iso_time(now_us(), t);
  rc = vg_buf_printf(b,
                     "<event version=\"2.0\" uid=\"vigia-site-%lld\" type=\"t-x-d-d\" how=\"h-g-i-g-o\" time=\"%s\""
                     " start=\"%s\" stale=\"%s\" opex=\"%s\" access=\"",
                     (long long)id, t, t, t, exercise ? "e-TEST" : "o-");
  if (rc == VG_OK)
    rc = put_attr(b, banner);
  if (rc == VG_OK)
    rc = vg_buf_printf(b,
                       "\"><point lat=\"0.0\" lon=\"0.0\" hae=\"9999999.0\" ce=\"9999999.0\" le=\"9999999.0\"/>"
                       "<detail><link uid=\"vigia-site-%lld\" relation=\"none\" type=\"a-u-G\"/></detail></event>\n",
                       (long long)id);
  return rc;
}

/* Audits then sends a retraction of @p x to @p c, and forgets it (caller holds c->mu). */
static int retract(client *c, sent *x, const char *why)
{
  vg_buf b;
  uint8_t dg[VG_AUDIT_HASH_BYTES];
  char product[48];
  int64_t id = x->id;
  int rc;
  vg_buf_init(&b, 1u << 16);
  if ((rc = write_retraction(&b, id, x->banner, c->st->exercise)) == VG_OK) {
    vg_audit_digest(b.data, b.len, dg);
    snprintf(product, sizeof product, "retract/%lld", (long long)id);
    if ((rc = audit(c->st, product, dg, x->banner, c->who.name, VG_AUDIT_ALLOW, why)) == VG_OK) {
      sent_remove(c, x);
      rc = send_all(c, b.data, b.len);
    }
  }
  vg_buf_free(&b);
  return rc;
}

typedef struct decision {
  int64_t id;
  int allowed;
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
  t->d[t->n].id = e->site_id;
  t->d[t->n].allowed = e->allowed;
  snprintf(t->d[t->n].why, sizeof t->d[t->n].why, "%s", e->why ? e->why : "");
  t->n++;
}

static const decision *tally_find(const tally *t, int64_t id)
{
  for (size_t i = 0; i < t->n; i++)
    if (t->d[i].id == id)
      return &t->d[i];
  return NULL;
}

/*
 * Brings client @p c up to date (caller holds c->mu, c->live): collect, then
 * an event per new or changed site and a retraction per site gone.
 */
static int update(client *c)
{
  vg_cot_stream *st = c->st;
  vg_product_site *v = NULL;
  size_t n = 0;
  tally t = {NULL, 0, 0, 0};
  vg_buf b;
  int rc;
  vg_buf_init(&b, 1u << 20);
  pthread_mutex_lock(&st->reg_mu);
  rc = vg_products_collect(st->reg, k_world, &c->who.rcpt, on_decision, &t, &v, &n);
  pthread_mutex_unlock(&st->reg_mu);
  if (rc == VG_OK && t.nomem)
    rc = vg_error_set(VG_E_NOMEM, "cot: decisions");
  if (rc != VG_OK)
    goto done;
  /* what left: retract first, so a client never holds a site it may no longer have */
  for (size_t i = 0; i < c->ns && rc == VG_OK;) {
    int still = 0;
    for (size_t j = 0; j < n && !still; j++)
      still = v[j].site.id == c->s[i].id && v[j].site.state == VG_SITE_CONFIRMED;
    if (still) {
      i++;
      continue;
    }
    {
      const decision *d = tally_find(&t, c->s[i].id);
      char why[320];
      if (d && !d->allowed)
        snprintf(why, sizeof why, "no longer released: %s", d->why);
      else
        snprintf(why, sizeof why, "no longer a confirmed site");
      rc = retract(c, &c->s[i], why); /* removes c->s[i] */
    }
  }
  /* what is new or changed */
  for (size_t j = 0; j < n && rc == VG_OK; j++) {
    vg_product_opts o = VG_PRODUCT_OPTS_INIT;
    uint8_t key[KEY_BYTES], dg[VG_AUDIT_HASH_BYTES];
    char product[48];
    const decision *d;
    sent *x;
    if (v[j].site.state != VG_SITE_CONFIRMED)
      continue;
    o.exercise = st->exercise;
    o.now_us = KEY_TIME_US;
    b.len = 0;
    if ((rc = vg_product_write(&b, VG_PRODUCT_COT, &v[j], 1, &o)) != VG_OK)
      break;
    crypto_generichash(key, sizeof key, b.data, b.len, NULL, 0);
    x = sent_find(c, v[j].site.id);
    if (x && !memcmp(x->key, key, sizeof key))
      continue;
    b.len = 0;
    o.now_us = 0;
    if ((rc = vg_product_write(&b, VG_PRODUCT_COT, &v[j], 1, &o)) != VG_OK)
      break;
    if (!x) {
      if (c->ns == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 16;
        sent *ns = realloc(c->s, nc * sizeof *ns);
        if (!ns) {
          rc = vg_error_set(VG_E_NOMEM, "cot: sent table");
          break;
        }
        c->s = ns;
        c->cap = nc;
      }
      x = &c->s[c->ns++];
      x->id = v[j].site.id;
    }
    memcpy(x->key, key, sizeof key);
    snprintf(x->banner, sizeof x->banner, "%s", v[j].banner);
    vg_audit_digest(b.data, b.len, dg);
    snprintf(product, sizeof product, "site/%lld", (long long)v[j].site.id);
    d = tally_find(&t, v[j].site.id);
    if ((rc = audit(st, product, dg, v[j].banner, c->who.name, VG_AUDIT_ALLOW, d ? d->why : "released")) != VG_OK)
      break; /* not on record, not sent (the client is disconnected: its table no longer matters) */
    rc = send_all(c, b.data, b.len);
  }
done:
  vg_buf_free(&b);
  free(v);
  free(t.d);
  return rc;
}

/* ---- a client ----------------------------------------------------------------------------- */

/* Refuses a connection: an audit deny entry, then the connection closed without data. */
static void refuse(client *c, const char *label, const char *why)
{
  if (audit(c->st, "stream", NULL, "", label, VG_AUDIT_DENY, why) != VG_OK)
    vg_log(VG_LOG_ERROR, "cot", "audit: %s", vg_error_last());
  vg_log(VG_LOG_INFO, "cot", "refused %s: %s", label, why);
}

static void *client_main(void *arg)
{
  client *c = arg;
  vg_cot_stream *st = c->st;
  gnutls_session_t tls = NULL;
  char why[256], fphex[65], label[VG_AUDIT_RECIPIENT_MAX + 1] = "unauthenticated";
  vg__partner who;
  int r, found = 0, ok = 0;
  memset(&who, 0, sizeof who);
  if (gnutls_init(&tls, GNUTLS_SERVER) < 0) {
    refuse(c, label, "TLS session could not be created");
    goto end;
  }
  pthread_mutex_lock(&c->mu);
  c->tls = tls;
  pthread_mutex_unlock(&c->mu);
  if (gnutls_priority_set(tls, st->prio) < 0 || gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, st->cred) < 0) {
    refuse(c, label, "TLS session could not be set up");
    goto end;
  }
  gnutls_certificate_server_set_request(tls, GNUTLS_CERT_REQUIRE);
  /* no CA names in the request: a client presents its certificate whatever signed it, and the
   * check below (not the client's choice) decides; it also keeps the partners' CA name private */
  gnutls_certificate_send_x509_rdn_sequence(tls, 1);
  gnutls_transport_set_int(tls, c->fd);
  gnutls_handshake_set_timeout(tls, VG_COT_TIMEOUT_S * 1000u);
  do
    r = gnutls_handshake(tls);
  while (r < 0 && !gnutls_error_is_fatal(r));
  if (r < 0) {
    snprintf(why, sizeof why, "TLS handshake failed: %s", gnutls_strerror(r));
    refuse(c, label, why);
    goto end;
  }
  if (vg__peer_verify(tls, fphex, why, sizeof why)) {
    if (fphex[0])
      snprintf(label, sizeof label, "cert:%s", fphex);
    refuse(c, label, why);
    goto bye;
  }
  snprintf(label, sizeof label, "cert:%s", fphex);
  /* c->mu then p_mu: a revocation either sees this client live or is seen here */
  pthread_mutex_lock(&c->mu);
  pthread_mutex_lock(&st->p_mu);
  for (size_t i = 0; i < st->np && !found; i++)
    if (!strcmp(st->p[i].fp, fphex)) {
      who = st->p[i];
      found = 1;
    }
  pthread_mutex_unlock(&st->p_mu);
  if (found && !who.revoked && c->fd >= 0) {
    c->who = who;
    c->live = 1;
    ok = 1;
    if (update(c) != VG_OK) {
      vg_log(VG_LOG_ERROR, "cot", "%s: %s", who.name, vg_error_last());
      kill_client(c);
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (!ok) {
    if (found)
      snprintf(label, sizeof label, "%s", who.name);
    if (!found)
      snprintf(why, sizeof why, "certificate not in the partners file");
    else
      snprintf(why, sizeof why, "partner %s is revoked", who.name);
    refuse(c, label, why);
    goto bye;
  }
  /* the client may send (TAK pings); nothing it sends is read as a request */
  for (;;) {
    char buf[4096];
    ssize_t n = gnutls_record_recv(tls, buf, sizeof buf);
    if (n > 0 || n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
      continue;
    break;
  }
  goto end;
bye:
  gnutls_bye(tls, GNUTLS_SHUT_WR);
end:
  pthread_mutex_lock(&c->mu);
  c->live = 0;
  if (c->tls)
    gnutls_deinit(c->tls);
  else if (tls)
    gnutls_deinit(tls);
  c->tls = NULL;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  free(c->s);
  c->s = NULL;
  c->ns = c->cap = 0;
  pthread_mutex_unlock(&c->mu);
  pthread_mutex_lock(&st->c_mu);
  c->done = 1;
  pthread_mutex_unlock(&st->c_mu);
  return NULL;
}

/* ---- accepting ---------------------------------------------------------------------------- */

static void *accept_main(void *arg)
{
  vg_cot_stream *st = arg;
  for (;;) {
    struct pollfd pf[2] = {{st->lfd, POLLIN, 0}, {st->wake[0], POLLIN, 0}};
    struct timeval tv = {VG_COT_TIMEOUT_S, 0};
    client *c = NULL;
    int fd;
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (pf[1].revents)
      break;
    if (!(pf[0].revents & POLLIN))
      continue;
    fd = accept(st->lfd, NULL, NULL);
    if (fd < 0)
      continue;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    pthread_mutex_lock(&st->c_mu);
    for (unsigned i = 0; i < st->max; i++) {
      client *k = &st->c[i];
      if (k->used && k->done) {
        pthread_join(k->th, NULL);
        k->used = 0;
      }
      if (!k->used && !c)
        c = k;
    }
    if (c) {
      c->used = 1;
      c->done = 0;
      c->fd = fd;
      c->tls = NULL;
      c->live = 0;
      memset(&c->who, 0, sizeof c->who);
      if (pthread_create(&c->th, NULL, client_main, c) != 0) {
        c->used = 0;
        c->fd = -1;
        c = NULL;
      }
    }
    pthread_mutex_unlock(&st->c_mu);
    if (!c) {
      close(fd);
      if (audit(st, "stream", NULL, "", "unauthenticated", VG_AUDIT_DENY, "too many clients") != VG_OK)
        vg_log(VG_LOG_ERROR, "cot", "audit: %s", vg_error_last());
    }
  }
  return NULL;
}

/* ---- the API ------------------------------------------------------------------------------ */

static void stream_free(vg_cot_stream *st)
{
  if (st->lfd >= 0)
    close(st->lfd);
  if (st->wake[0] >= 0)
    close(st->wake[0]);
  if (st->wake[1] >= 0)
    close(st->wake[1]);
  vg_register_close(st->reg);
  if (st->prio)
    gnutls_priority_deinit(st->prio);
  if (st->cred)
    gnutls_certificate_free_credentials(st->cred);
  free(st->p);
  for (size_t i = 0; i < VG_COT_CLIENTS_MAX; i++)
    pthread_mutex_destroy(&st->c[i].mu);
  pthread_mutex_destroy(&st->reg_mu);
  pthread_mutex_destroy(&st->p_mu);
  pthread_mutex_destroy(&st->c_mu);
  free(st);
}

int vg_cot_stream_open(vg_cot_stream **out, const vg_cot_opts *o)
{
  vg_cot_stream *st;
  struct sockaddr_in sa;
  socklen_t sl = sizeof sa;
  int rc, one = 1;
  if (!out || !o || o->version != VG_COT_OPTS_VERSION || !o->db || !o->cert || !o->key || !o->ca || !o->partners ||
      !o->audit || o->port > 65535)
    return vg_error_set(VG_E_INVALID, "cot: db, cert, key, ca, partners and audit are required");
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->bind ? o->bind : "127.0.0.1", &sa.sin_addr) != 1)
    return vg_error_set(VG_E_INVALID, "cot: bind address '%s' is not an IPv4 address", o->bind);
  if (!(st = calloc(1, sizeof *st)))
    return vg_error_set(VG_E_NOMEM, "cot");
  st->lfd = st->wake[0] = st->wake[1] = -1;
  pthread_mutex_init(&st->reg_mu, NULL);
  pthread_mutex_init(&st->p_mu, NULL);
  pthread_mutex_init(&st->c_mu, NULL);
  for (size_t i = 0; i < VG_COT_CLIENTS_MAX; i++) {
    pthread_mutex_init(&st->c[i].mu, NULL);
    st->c[i].st = st;
    st->c[i].fd = -1;
  }
  st->audit = o->audit;
  st->exercise = o->exercise;
  st->max = o->max_clients && o->max_clients < VG_COT_CLIENTS_MAX ? o->max_clients : VG_COT_CLIENTS_MAX;
  if (gnutls_certificate_allocate_credentials(&st->cred) < 0) {
    st->cred = NULL;
    rc = vg_error_set(VG_E_NOMEM, "cot: TLS credentials");
    goto fail;
  }
  if (gnutls_certificate_set_x509_key_file(st->cred, o->cert, o->key, GNUTLS_X509_FMT_PEM) < 0) {
    rc = vg_error_set(VG_E_MALFORMED, "cot: %s, %s: not a PEM certificate chain and its key", o->cert, o->key);
    goto fail;
  }
  if (gnutls_certificate_set_x509_trust_file(st->cred, o->ca, GNUTLS_X509_FMT_PEM) <= 0) {
    rc = vg_error_set(VG_E_MALFORMED, "cot: %s: no PEM certificate", o->ca);
    goto fail;
  }
  if (gnutls_priority_init(&st->prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL) < 0) {
    st->prio = NULL;
    rc = vg_error_set(VG_E_INVALID, "cot: TLS priorities");
    goto fail;
  }
  if ((rc = vg__partners_load(o->partners, &st->p, &st->np)) != VG_OK)
    goto fail;
  if ((rc = vg_register_open(&st->reg, o->db)) != VG_OK)
    goto fail;
  if (pipe(st->wake) != 0 || fcntl(st->wake[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(st->wake[1], F_SETFD, FD_CLOEXEC) != 0) {
    rc = vg_error_set(VG_E_IO, "cot: pipe: %s", strerror(errno));
    goto fail;
  }
  if ((st->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || fcntl(st->lfd, F_SETFD, FD_CLOEXEC) != 0 ||
      setsockopt(st->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(st->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(st->lfd, 16) != 0 ||
      getsockname(st->lfd, (struct sockaddr *)&sa, &sl) != 0) {
    rc = vg_error_set(VG_E_IO, "cot: cannot listen on %s:%u: %s", o->bind ? o->bind : "127.0.0.1", o->port,
                      strerror(errno));
    goto fail;
  }
  st->port = ntohs(sa.sin_port);
  if (pthread_create(&st->acc, NULL, accept_main, st) != 0) {
    rc = vg_error_set(VG_E_NOMEM, "cot: thread");
    goto fail;
  }
  st->acc_started = 1;
  *out = st;
  return VG_OK;
fail:
  stream_free(st);
  return rc;
}

unsigned vg_cot_stream_port(const vg_cot_stream *st)
{
  return st ? st->port : 0;
}

int vg_cot_stream_publish(vg_cot_stream *st)
{
  int first = VG_OK;
  if (!st)
    return vg_error_set(VG_E_INVALID, "cot: no stream");
  pthread_mutex_lock(&st->c_mu);
  for (unsigned i = 0; i < st->max; i++) {
    client *c = &st->c[i];
    if (!c->used)
      continue;
    pthread_mutex_lock(&c->mu);
    if (c->live) {
      int rc = update(c);
      if (rc != VG_OK) {
        vg_log(VG_LOG_ERROR, "cot", "%s: %s", c->who.name, vg_error_last());
        kill_client(c);
        if (first == VG_OK)
          first = rc;
      }
    }
    pthread_mutex_unlock(&c->mu);
  }
  pthread_mutex_unlock(&st->c_mu);
  return first;
}

int vg_cot_stream_retract_site(vg_cot_stream *st, int64_t site_id)
{
  int first = VG_OK;
  if (!st)
    return vg_error_set(VG_E_INVALID, "cot: no stream");
  pthread_mutex_lock(&st->c_mu);
  for (unsigned i = 0; i < st->max; i++) {
    client *c = &st->c[i];
    sent *x;
    if (!c->used)
      continue;
    pthread_mutex_lock(&c->mu);
    if (c->live && (x = sent_find(c, site_id))) {
      int rc = retract(c, x, "site retracted");
      if (rc != VG_OK) {
        vg_log(VG_LOG_ERROR, "cot", "%s: %s", c->who.name, vg_error_last());
        kill_client(c);
        if (first == VG_OK)
          first = rc;
      }
    }
    pthread_mutex_unlock(&c->mu);
  }
  pthread_mutex_unlock(&st->c_mu);
  return first;
}

int vg_cot_stream_revoke(vg_cot_stream *st, const char *partner)
{
  char product[16 + VG_SERVER_NAME_MAX];
  int found = 0;
  if (!st || !partner)
    return vg_error_set(VG_E_INVALID, "cot: no stream or partner");
  pthread_mutex_lock(&st->p_mu);
  for (size_t i = 0; i < st->np; i++)
    if (!strcmp(st->p[i].name, partner)) {
      st->p[i].revoked = 1; /* from now on its certificate is refused */
      found = 1;
      break;
    }
  pthread_mutex_unlock(&st->p_mu);
  if (!found)
    return vg_error_set(VG_E_NOTFOUND, "cot: no partner '%s'", partner);
  pthread_mutex_lock(&st->c_mu);
  for (unsigned i = 0; i < st->max; i++) {
    client *c = &st->c[i];
    if (!c->used)
      continue;
    pthread_mutex_lock(&c->mu);
    if (c->live && !strcmp(c->who.name, partner))
      kill_client(c);
    pthread_mutex_unlock(&c->mu);
  }
  pthread_mutex_unlock(&st->c_mu);
  snprintf(product, sizeof product, "partner/%s", partner);
  return audit(st, product, NULL, "", partner, VG_AUDIT_DENY, "partner revoked: its CoT connections closed");
}

void vg_cot_stream_close(vg_cot_stream *st)
{
  if (!st)
    return;
  if (st->acc_started) {
    if (write(st->wake[1], "x", 1) != 1)
      vg_log(VG_LOG_ERROR, "cot", "wake: %s", strerror(errno));
    pthread_join(st->acc, NULL);
  }
  pthread_mutex_lock(&st->c_mu);
  for (unsigned i = 0; i < st->max; i++) {
    client *c = &st->c[i];
    if (!c->used)
      continue;
    pthread_mutex_lock(&c->mu);
    kill_client(c);
    pthread_mutex_unlock(&c->mu);
  }
  pthread_mutex_unlock(&st->c_mu);
  for (unsigned i = 0; i < st->max; i++)
    if (st->c[i].used) {
      pthread_join(st->c[i].th, NULL);
      st->c[i].used = 0;
    }
  stream_free(st);
}
