/*
 * The audit chain of release decisions (lib/server/audit.c):
 *   - known answers: the entry hash and the checkpoint signature of
 *     docs/formats/audit.md computed independently (Python hashlib and
 *     cryptography's Ed25519 from a fixed seed), checked through the public
 *     API and a hand-written log;
 *   - a log of 200 decisions (allow and deny, four recipients, several
 *     egresses) with a checkpoint every 64 entries and at close verifies;
 *     replay gives back exactly the allow set per recipient that was appended;
 *   - tampering, each on a copy, found at its line with its reason: one
 *     character of a marking, of a hash, of a recipient, of a checkpoint
 *     signature or checkpoint chain; an entry deleted, two swapped, one
 *     duplicated, one replaced by a self-consistent forgery, a checkpoint
 *     moved; the file cut inside a line (torn: open refuses, repair removes
 *     it and keeps the bytes); a forged entry with a right prev and hash but
 *     no checkpoint (uncovered tail), or with a checkpoint of another key;
 *     the log against another public key; malformed lines;
 *   - the same fields reformatted (spacing, member order, escapes) still
 *     verify: the hash is over the fields, not the text;
 *   - a writer reopening a log continues its chain; a second writer is
 *     refused while the first holds the lock; two processes appending in
 *     turns under the lock give one valid chain with every entry; a writer
 *     that dies leaves an unsigned tail that open refuses until adopted;
 *   - limits and text rules of the strings at their boundaries; the key
 *     file's mode; keygen never overwrites.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include "testutil.h"
#include "vigia/server.h"

#define N_MAIN 200
#define EVERY 64
#define T0 1780000000000000LL /* 2026-05-28, UTC microseconds */

static const char *const k_recipients[] = {"MEX", "GTM", "COL", "partner-ca:5f:3a:9c"};
static const char *const k_egress[] = {"export", "ogcapi", "cot", "download", "map"};

/* What the test appended to the main log, in order. */
typedef struct appended {
  uint64_t seq;
  int64_t time_us;
  char product[32], version[8], recipient[32], egress[16];
  vg_audit_decision decision;
  uint8_t digest[VG_AUDIT_HASH_BYTES];
} appended;

typedef struct fixture {
  char dir[64];
  char key[96], key2[96], pubpath[128], main_log[96];
  uint8_t pub[VG_AUDIT_PUB_BYTES], pub2[VG_AUDIT_PUB_BYTES];
  appended a[N_MAIN];
} fixture;

static fixture *g; /* the group's fixture */

static const char *path_in(char *buf, size_t cap, const char *name)
{
  snprintf(buf, cap, "%s/%s", g->dir, name);
  return buf;
}

/* The line of entry @p seq in the main log: one checkpoint line after every EVERY entries. */
static size_t line_of(uint64_t seq) { return (size_t)(seq + (seq - 1) / EVERY); }

static void fill_entry(vg_audit_entry *e, const appended *x, const char *marking)
{
  memset(e, 0, sizeof *e);
  e->time_us = x->time_us;
  e->product = x->product;
  e->version = x->version;
  memcpy(e->digest, x->digest, VG_AUDIT_HASH_BYTES);
  e->marking = marking;
  e->recipient = x->recipient;
  e->egress = x->egress;
  e->decision = x->decision;
  e->reason = x->decision == VG_AUDIT_ALLOW ? "releasable to the recipient" : "recipient not in REL TO";
  e->policy = "2026-06";
}

static int group_setup(void **state)
{
  vg_audit *w = NULL;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  char pubhex[2 * VG_AUDIT_PUB_BYTES + 1], k2pub[128];
  (void)state;
  g = calloc(1, sizeof *g);
  if (!g)
    return -1;
  snprintf(g->dir, sizeof g->dir, "/tmp/vg_audit_XXXXXX");
  if (!mkdtemp(g->dir))
    return -1;
  path_in(g->key, sizeof g->key, "key");
  path_in(g->key2, sizeof g->key2, "key2");
  path_in(g->main_log, sizeof g->main_log, "main.log");
  snprintf(g->pubpath, sizeof g->pubpath, "%s.pub", g->key);
  snprintf(k2pub, sizeof k2pub, "%s.pub", g->key2);
  if (vg_audit_keygen(g->key, pubhex) != VG_OK || vg_audit_keygen(g->key2, NULL) != VG_OK ||
      vg_audit_pub_load(g->pubpath, g->pub) != VG_OK || vg_audit_pub_load(k2pub, g->pub2) != VG_OK) {
    print_message("keygen: %s\n", vg_error_last());
    return -1;
  }
  o.checkpoint_every = EVERY;
  if (vg_audit_open(&w, g->main_log, g->key, &o) != VG_OK) {
    print_message("open: %s\n", vg_error_last());
    return -1;
  }
  for (int i = 0; i < N_MAIN; i++) {
    appended *x = &g->a[i];
    vg_audit_entry e;
    char bytes[64];
    int n = snprintf(bytes, sizeof bytes, "{\"product\":%d}", i);
    x->time_us = T0 + 1000 * i;
    snprintf(x->product, sizeof x->product, "site-%d", i / 3);
    snprintf(x->version, sizeof x->version, "%d", 1 + i % 5);
    snprintf(x->recipient, sizeof x->recipient, "%s", k_recipients[i % 4]);
    snprintf(x->egress, sizeof x->egress, "%s", k_egress[i % 5]);
    x->decision = (i % 3 == 2 || i % 7 == 0) ? VG_AUDIT_DENY : VG_AUDIT_ALLOW;
    if (i % 7 == 0)
      memset(x->digest, 0, sizeof x->digest); /* a denial that produced nothing */
    else
      vg_audit_digest(bytes, (size_t)n, x->digest);
    fill_entry(&e, x, "UNCLASSIFIED//REL TO USA, MEX");
    if (vg_audit_append(w, &e, &x->seq) != VG_OK || x->seq != (uint64_t)i + 1) {
      print_message("append %d: %s\n", i, vg_error_last());
      vg_audit_close(w);
      return -1;
    }
  }
  if (vg_audit_close(w) != VG_OK)
    return -1;
  return 0;
}

static int group_teardown(void **state)
{
  char cmd[160];
  (void)state;
  if (!g)
    return 0;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g->dir);
  if (strncmp(g->dir, "/tmp/vg_audit_", 14) == 0 && system(cmd) != 0)
    print_message("could not remove %s\n", g->dir);
  free(g);
  g = NULL;
  return 0;
}

/* ---- file helpers ------------------------------------------------------------------------ */

typedef struct lines {
  char **l;
  size_t n;
} lines;

static lines read_lines(const char *path)
{
  uint8_t *buf = NULL;
  size_t len = 0, start = 0;
  lines L = {NULL, 0};
  assert_int_equal(vg_test_read_file(path, &buf, &len), 0);
  L.l = calloc(len + 2, sizeof *L.l);
  assert_non_null(L.l);
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '\n') {
      L.l[L.n] = strndup((const char *)buf + start, i - start);
      assert_non_null(L.l[L.n]);
      L.n++;
      start = i + 1;
    }
  assert_true(start == len); /* the writer ends every line */
  free(buf);
  return L;
}

static void free_lines(lines *L)
{
  for (size_t i = 0; i < L->n; i++)
    free(L->l[i]);
  free(L->l);
}

/* Writes the lines joined by '\n', each ended by one. */
static void write_lines(const char *path, const lines *L)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  for (size_t i = 0; i < L->n; i++)
    if (L->l[i])
      assert_true(fprintf(f, "%s\n", L->l[i]) >= 0);
  assert_int_equal(fclose(f), 0);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
  uint8_t *buf = NULL;
  size_t n = 0;
  assert_int_equal(vg_test_read_file(from, &buf, &n), 0);
  write_bytes(to, buf, n);
  free(buf);
}

/* The 1-based line @p ln of L (the array is 0-based). */
static char *line_at(lines *L, size_t ln)
{
  assert_true(ln >= 1 && ln <= L->n);
  return L->l[ln - 1];
}

/* Changes the character @p skip bytes into the value of string member @p member of line @p ln. */
static void change_char(lines *L, size_t ln, const char *member, size_t skip)
{
  char key[64], *p;
  snprintf(key, sizeof key, "\"%s\":\"", member);
  p = strstr(line_at(L, ln), key);
  assert_non_null(p);
  p += strlen(key) + skip;
  assert_true(*p && *p != '"');
  /* a hex digit stays one, anything else becomes a letter: the line must still parse */
  if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
    *p = *p == '0' ? '1' : '0';
  else
    *p = *p == 'X' ? 'Y' : 'X';
}

/* Verifies @p path against @p pub and checks the verdict and its line. */
static void expect_verdict(const char *path, const uint8_t *pub, vg_audit_status st, uint64_t line,
                           vg_audit_report *r)
{
  int rc = vg_audit_verify(path, pub, r);
  if (r->status != st || r->line != line)
    print_message("verdict %s at line %llu (%s), expected %s at line %llu\n", vg_audit_status_name(r->status),
                  (unsigned long long)r->line, r->reason, vg_audit_status_name(st), (unsigned long long)line);
  assert_int_equal(r->status, st);
  assert_int_equal(r->line, line);
  if (st == VG_AUDIT_OK) {
    assert_int_equal(rc, VG_OK);
    assert_string_equal(r->reason, "");
  } else {
    char want[32];
    assert_int_not_equal(rc, VG_OK);
    snprintf(want, sizeof want, "line %llu: ", (unsigned long long)line);
    assert_true(strncmp(r->reason, want, strlen(want)) == 0);
    assert_non_null(strstr(vg_error_last(), r->reason)); /* the thread's message carries it */
  }
}

/* A tampered copy of the main log: @p name in the fixture folder. */
static lines main_lines(void)
{
  lines L = read_lines(g->main_log);
  assert_int_equal(L.n, N_MAIN + (N_MAIN + EVERY - 1) / EVERY);
  return L;
}

/* ---- known answers ----------------------------------------------------------------------- */

/* Independent values (Python: hashlib.blake2b(digest_size=32); cryptography Ed25519, seed 00..1f). */
#define KAT_DIGEST_ABC "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
#define KAT_HASH1 "d633b5ee85732afd367824372d288652df689ab110ab589e1334ec7ee9035792"
#define KAT_HASH2 "6d29695a2b67f88a4be144ad41067faca812af42b5f31db88d535602f2eb0c00"
#define KAT_PUB "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define KAT_SIG                                                                                                \
  "4a9c3bd58371b364272b49f330b93d681f813a14644ec8a7aa0251e012336709de6a9f52ca9e9b44eb0af3fc951ad448a9cb7c51035e" \
  "8bac0fc4b9c847078308"

static void test_known_answers(void **state)
{
  vg_audit_entry e;
  uint8_t h[VG_AUDIT_HASH_BYTES], *want, *pub;
  size_t n;
  vg_audit_report r;
  char log[2048];
  int len;
  (void)state;
  memset(&e, 0, sizeof e);
  vg_audit_digest("abc", 3, e.digest);
  want = vg_test_unhex_or_fail(KAT_DIGEST_ABC, &n);
  assert_memory_equal(e.digest, want, 32);
  free(want);
  e.seq = 1;
  e.time_us = T0;
  e.product = "site-42";
  e.version = "3";
  e.marking = "UNCLASSIFIED//REL TO USA, MEX";
  e.recipient = "MEX";
  e.egress = "export";
  e.decision = VG_AUDIT_ALLOW;
  e.reason = "REL TO MEX";
  e.policy = "2026-06";
  assert_int_equal(vg_audit_entry_hash(&e, h), VG_OK);
  want = vg_test_unhex_or_fail(KAT_HASH1, &n);
  assert_memory_equal(h, want, 32);
  free(want);
  /* the second entry: a denial with nothing produced, non-ASCII and a quote in the reason */
  memcpy(e.prev, h, 32);
  e.seq = 2;
  e.time_us = T0 + 1;
  e.product = "site-43";
  e.version = "1";
  memset(e.digest, 0, 32);
  e.marking = "SECRET//NOFORN";
  e.egress = "cot";
  e.decision = VG_AUDIT_DENY;
  e.reason = "se\xc3\xb1" "al \"NOFORN\"";
  assert_int_equal(vg_audit_entry_hash(&e, h), VG_OK);
  want = vg_test_unhex_or_fail(KAT_HASH2, &n);
  assert_memory_equal(h, want, 32);
  free(want);

  /* a log written by hand from the format document verifies with the fixed key */
  len = snprintf(log, sizeof log,
                 "{\"seq\":1,\"time_us\":%lld,\"product\":\"site-42\",\"version\":\"3\",\"bytes_blake2b\":\"%s\","
                 "\"marking\":\"UNCLASSIFIED//REL TO USA, MEX\",\"recipient\":\"MEX\",\"egress\":\"export\","
                 "\"decision\":\"allow\",\"reason\":\"REL TO MEX\",\"policy\":\"2026-06\",\"prev\":\"%064d\","
                 "\"hash\":\"%s\"}\n"
                 "{\"checkpoint\":1,\"chain\":\"%s\",\"time_us\":%lld,\"key\":\"%s\",\"sig\":\"%s\"}\n",
                 (long long)T0, KAT_DIGEST_ABC, 0, KAT_HASH1, KAT_HASH1, (long long)T0 + 2, KAT_PUB, KAT_SIG);
  assert_true(len > 0 && (size_t)len < sizeof log);
  pub = vg_test_unhex_or_fail(KAT_PUB, &n);
  assert_int_equal(vg_audit_verify_mem((const uint8_t *)log, (size_t)len, pub, &r), VG_OK);
  assert_int_equal(r.status, VG_AUDIT_OK);
  assert_int_equal(r.entries, 1);
  assert_int_equal(r.checkpoints, 1);
  assert_memory_equal(r.key, pub, 32);
  /* and not with another key */
  assert_int_equal(vg_audit_verify_mem((const uint8_t *)log, (size_t)len, g->pub, &r), VG_E_CHECKSUM);
  assert_int_equal(r.status, VG_AUDIT_SIGNATURE);
  assert_int_equal(r.line, 2);
  /* a signature that is one bit off */
  log[len - 4] = log[len - 4] == '0' ? '1' : '0';
  assert_int_equal(vg_audit_verify_mem((const uint8_t *)log, (size_t)len, pub, &r), VG_E_CHECKSUM);
  assert_int_equal(r.status, VG_AUDIT_SIGNATURE);
  assert_non_null(strstr(r.reason, "bad signature"));
  free(pub);
  /* nothing at all is a valid (empty) log; no key is refused */
  assert_int_equal(vg_audit_verify_mem(NULL, 0, g->pub, &r), VG_OK);
  assert_int_equal(r.entries, 0);
  assert_int_equal(vg_audit_verify_mem((const uint8_t *)"", 0, NULL, &r), VG_E_INVALID);
}

/* ---- the main log ------------------------------------------------------------------------ */

static void test_verify_ok(void **state)
{
  vg_audit_report r;
  (void)state;
  expect_verdict(g->main_log, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, N_MAIN);
  assert_int_equal(r.checkpoints, 4); /* 64, 128, 192, and 200 at close */
  assert_int_equal(r.lines, N_MAIN + 4);
  assert_int_equal(r.last_seq, N_MAIN);
  assert_int_equal(r.covered_seq, N_MAIN);
  assert_int_equal(r.uncovered, 0);
  assert_memory_equal(r.key, g->pub, 32);
  assert_memory_equal(r.last_hash, r.covered_hash, 32);
}

/* A batch (one response's decisions) is one write and one fsync, chained like single appends:
 * 5 singles, a batch of 70 (a checkpoint falls inside it: written after the batch), 0 (no-op),
 * then a single; the log verifies with every seq in order, and an invalid entry in a batch
 * leaves nothing written. */
static void test_append_many(void **state)
{
  char path[128];
  vg_audit *w = NULL;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  vg_audit_entry e[70];
  vg_audit_report r;
  uint64_t seq = 0;
  (void)state;
  o.checkpoint_every = EVERY;
  path_in(path, sizeof path, "many.log");
  assert_int_equal(vg_audit_open(&w, path, g->key, &o), VG_OK);
  for (int i = 0; i < 70; i++)
    fill_entry(&e[i], &g->a[i], "UNCLASSIFIED//REL TO USA, MEX");
  for (int i = 0; i < 5; i++)
    assert_int_equal(vg_audit_append(w, &e[i], NULL), VG_OK);
  assert_int_equal(vg_audit_append_many(w, e, 70), VG_OK);
  assert_int_equal(vg_audit_append_many(w, e, 0), VG_OK);
  assert_int_equal(vg_audit_last_seq(w), 75);
  e[3].egress = "NOT VALID";
  assert_int_not_equal(vg_audit_append_many(w, e, 5), VG_OK);
  assert_int_equal(vg_audit_last_seq(w), 75);
  e[3].egress = "export";
  assert_int_equal(vg_audit_append(w, &e[0], &seq), VG_OK);
  assert_int_equal(seq, 76);
  assert_int_equal(vg_audit_close(w), VG_OK);
  assert_int_equal(vg_audit_verify(path, g->pub, &r), VG_OK);
  assert_int_equal(r.entries, 76);
  assert_int_equal(r.last_seq, 76);
  assert_int_equal(r.covered_seq, 76);
}

/* Group commit under concurrency: 8 threads, each 40 batches of 3 and 10 singles, into one
 * writer: every entry is in the chain once, the log verifies, and the seqs are 1..N. */
typedef struct tw {
  vg_audit *w;
  int fails;
} tw;

static void *thread_appender(void *arg)
{
  tw *t = arg;
  vg_audit_entry e[3];
  for (int i = 0; i < 3; i++)
    fill_entry(&e[i], &g->a[i], "UNCLASSIFIED//REL TO USA, MEX");
  for (int k = 0; k < 40; k++)
    t->fails += vg_audit_append_many(t->w, e, 3) != VG_OK;
  for (int k = 0; k < 10; k++)
    t->fails += vg_audit_append(t->w, &e[0], NULL) != VG_OK;
  return NULL;
}

static void test_group_commit_threads(void **state)
{
  char path[128];
  vg_audit *w = NULL;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  vg_audit_report r;
  pthread_t th[8];
  tw t[8];
  (void)state;
  o.checkpoint_every = EVERY;
  path_in(path, sizeof path, "threads.log");
  assert_int_equal(vg_audit_open(&w, path, g->key, &o), VG_OK);
  for (int i = 0; i < 8; i++) {
    t[i].w = w;
    t[i].fails = 0;
    assert_int_equal(pthread_create(&th[i], NULL, thread_appender, &t[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(t[i].fails, 0);
  }
  assert_int_equal(vg_audit_last_seq(w), 8 * (40 * 3 + 10));
  assert_int_equal(vg_audit_close(w), VG_OK);
  assert_int_equal(vg_audit_verify(path, g->pub, &r), VG_OK);
  assert_int_equal(r.entries, 8 * (40 * 3 + 10));
  assert_int_equal(r.covered_seq, r.last_seq);
}

typedef struct got {
  appended a[N_MAIN];
  size_t n;
  uint64_t lines[N_MAIN];
} got;

static int collect(const vg_audit_entry *e, uint64_t line, void *ud)
{
  got *G = ud;
  appended *x;
  if (G->n >= N_MAIN)
    return VG_E_LIMIT;
  x = &G->a[G->n];
  G->lines[G->n] = line;
  G->n++;
  memset(x, 0, sizeof *x);
  x->seq = e->seq;
  x->time_us = e->time_us;
  snprintf(x->product, sizeof x->product, "%s", e->product);
  snprintf(x->version, sizeof x->version, "%s", e->version);
  snprintf(x->recipient, sizeof x->recipient, "%s", e->recipient);
  snprintf(x->egress, sizeof x->egress, "%s", e->egress);
  x->decision = e->decision;
  memcpy(x->digest, e->digest, 32);
  return VG_OK;
}

/* Replays for @p recipient and compares with what was appended, in order. */
static size_t check_replay(const char *recipient, const uint8_t *pub)
{
  got *G = calloc(1, sizeof *G);
  vg_audit_report r;
  size_t k = 0;
  assert_non_null(G);
  assert_int_equal(vg_audit_replay(g->main_log, pub, recipient, collect, G, &r), VG_OK);
  assert_int_equal(r.status, VG_AUDIT_OK);
  for (size_t i = 0; i < N_MAIN; i++) {
    const appended *x = &g->a[i];
    if (x->decision != VG_AUDIT_ALLOW || (recipient && strcmp(recipient, x->recipient)))
      continue;
    assert_true(k < G->n);
    assert_int_equal(G->a[k].seq, x->seq);
    assert_int_equal(G->lines[k], line_of(x->seq));
    assert_int_equal(G->a[k].time_us, x->time_us);
    assert_string_equal(G->a[k].product, x->product);
    assert_string_equal(G->a[k].version, x->version);
    assert_string_equal(G->a[k].recipient, x->recipient);
    assert_string_equal(G->a[k].egress, x->egress);
    assert_int_equal(G->a[k].decision, VG_AUDIT_ALLOW);
    assert_memory_equal(G->a[k].digest, x->digest, 32);
    k++;
  }
  assert_int_equal(G->n, k); /* nothing more than the allow set */
  free(G);
  return k;
}

static void test_replay(void **state)
{
  size_t total = 0, all;
  (void)state;
  for (size_t i = 0; i < sizeof k_recipients / sizeof k_recipients[0]; i++) {
    size_t n = check_replay(k_recipients[i], g->pub);
    assert_true(n > 10);
    total += n;
  }
  all = check_replay(NULL, g->pub);
  assert_int_equal(all, total);
  assert_true(all < N_MAIN); /* the denials are not deliveries */
  assert_int_equal(check_replay(NULL, NULL), all); /* the log's own key */
  assert_int_equal(check_replay("ARG", g->pub), 0);
}

static void test_replay_refuses_tampered(void **state)
{
  char p[160];
  lines L = main_lines();
  got *G = calloc(1, sizeof *G);
  vg_audit_report r;
  (void)state;
  assert_non_null(G);
  change_char(&L, line_of(150), "product", 0);
  write_lines(path_in(p, sizeof p, "replay_tampered.log"), &L);
  assert_int_equal(vg_audit_replay(p, NULL, NULL, collect, G, &r), VG_E_CHECKSUM);
  assert_int_equal(r.status, VG_AUDIT_MODIFIED);
  assert_int_equal(r.line, line_of(150));
  for (size_t i = 0; i < G->n; i++) /* what was handed out came before the bad line */
    assert_true(G->a[i].seq < 150);
  free(G);
  free_lines(&L);
}

/* ---- tampering --------------------------------------------------------------------------- */

static void tamper_case(const char *name, lines *L, vg_audit_status st, uint64_t line)
{
  char p[160];
  vg_audit_report r;
  write_lines(path_in(p, sizeof p, name), L);
  expect_verdict(p, g->pub, st, line, &r);
}

static char *forge_line(const vg_audit_entry *e);

/* The verdict on the copy @p name says @p words. */
static void expect_reason(const char *name, const char *words)
{
  char p[160];
  vg_audit_report r;
  (void)vg_audit_verify(path_in(p, sizeof p, name), g->pub, &r);
  if (!strstr(r.reason, words))
    print_message("reason: %s\nexpected: %s\n", r.reason, words);
  assert_non_null(strstr(r.reason, words));
}

static void test_tamper_marking(void **state)
{
  lines L = main_lines();
  (void)state;
  change_char(&L, line_of(10), "marking", 3);
  tamper_case("marking.log", &L, VG_AUDIT_MODIFIED, line_of(10));
  free_lines(&L);
}

static void test_tamper_hash(void **state)
{
  lines L = main_lines();
  (void)state;
  change_char(&L, line_of(20), "hash", 17);
  tamper_case("hash.log", &L, VG_AUDIT_MODIFIED, line_of(20));
  free_lines(&L);
}

static void test_tamper_recipient(void **state)
{
  lines L = main_lines();
  vg_audit_report r;
  char p[160];
  (void)state;
  change_char(&L, line_of(69), "recipient", 1);
  tamper_case("recipient.log", &L, VG_AUDIT_MODIFIED, line_of(69));
  path_in(p, sizeof p, "recipient.log");
  expect_verdict(p, g->pub, VG_AUDIT_MODIFIED, 70, &r);
  assert_int_equal(r.entries, 68);
  assert_int_equal(r.covered_seq, 64);
  assert_non_null(strstr(r.reason, "modified"));
  free_lines(&L);
}

static void test_tamper_signature(void **state)
{
  lines L = main_lines();
  vg_audit_report r;
  char p[160];
  (void)state;
  assert_non_null(strstr(line_at(&L, 130), "\"checkpoint\":128"));
  change_char(&L, 130, "sig", 40);
  tamper_case("sig.log", &L, VG_AUDIT_SIGNATURE, 130);
  expect_verdict(path_in(p, sizeof p, "sig.log"), g->pub, VG_AUDIT_SIGNATURE, 130, &r);
  assert_non_null(strstr(r.reason, "bad signature"));
  free_lines(&L);
}

static void test_tamper_delete(void **state)
{
  lines L = main_lines();
  (void)state;
  free(L.l[line_of(10) - 1]);
  L.l[line_of(10) - 1] = NULL; /* write_lines skips it */
  tamper_case("delete.log", &L, VG_AUDIT_LINK, line_of(10));
  expect_reason("delete.log", "entry seq 11 comes after seq 9: entries are missing (deleted)");
  free_lines(&L);
}

static void test_tamper_swap(void **state)
{
  lines L = main_lines();
  char *t;
  (void)state;
  t = L.l[19];
  L.l[19] = L.l[20];
  L.l[20] = t;
  tamper_case("swap.log", &L, VG_AUDIT_LINK, 20);
  expect_reason("swap.log", "entry seq 21 comes after seq 19: entries are missing (deleted) or reordered");
  free_lines(&L);
}

static void test_tamper_duplicate(void **state)
{
  lines L = main_lines();
  (void)state;
  memmove(&L.l[31], &L.l[30], (L.n - 30) * sizeof *L.l);
  L.l[30] = strdup(L.l[29]);
  L.n++;
  tamper_case("duplicate.log", &L, VG_AUDIT_LINK, 31);
  expect_reason("duplicate.log", "entry seq 30 comes after seq 30: an entry was duplicated");
  free_lines(&L);
}

static void test_tamper_checkpoint_moved(void **state)
{
  lines L = main_lines();
  char *t;
  vg_audit_report r;
  char p[160];
  (void)state;
  t = L.l[64]; /* checkpoint 64 after entry 65 */
  L.l[64] = L.l[65];
  L.l[65] = t;
  tamper_case("cpmoved.log", &L, VG_AUDIT_CHECKPOINT, 66);
  expect_verdict(path_in(p, sizeof p, "cpmoved.log"), g->pub, VG_AUDIT_CHECKPOINT, 66, &r);
  assert_non_null(strstr(r.reason, "checkpoint 64 follows entry seq 65"));
  free_lines(&L);
}

/* Entry 10 replaced by a self-consistent forgery: right seq, prev and hash, other recipient. */
static void test_tamper_replaced(void **state)
{
  lines L = main_lines();
  vg_audit_entry e;
  json_t *o = json_loads(line_at(&L, line_of(10)), 0, NULL);
  uint8_t *prev;
  size_t n;
  (void)state;
  assert_non_null(o);
  fill_entry(&e, &g->a[9], "UNCLASSIFIED//REL TO USA, MEX");
  e.seq = 10;
  e.recipient = "ARG";
  prev = vg_test_unhex_or_fail(json_string_value(json_object_get(o, "prev")), &n);
  memcpy(e.prev, prev, 32);
  free(prev);
  json_decref(o);
  assert_int_equal(vg_audit_entry_hash(&e, e.hash), VG_OK);
  free(L.l[line_of(10) - 1]);
  L.l[line_of(10) - 1] = forge_line(&e);
  /* the forgery itself checks out; the entry after it no longer links */
  tamper_case("replaced.log", &L, VG_AUDIT_LINK, line_of(11));
  expect_reason("replaced.log", "entry seq 11: prev is not the hash of the entry before it");
  free_lines(&L);
}

/* A checkpoint whose chain hash was changed: it no longer names the entry before it. */
static void test_tamper_checkpoint_chain(void **state)
{
  lines L = main_lines();
  (void)state;
  change_char(&L, EVERY + 1, "chain", 5);
  tamper_case("cpchain.log", &L, VG_AUDIT_CHECKPOINT, EVERY + 1);
  expect_reason("cpchain.log", "checkpoint 64: its chain hash is not the hash of entry seq 64");
  free_lines(&L);
}

static void test_wrong_key(void **state)
{
  vg_audit_report r;
  (void)state;
  assert_int_equal(vg_audit_verify(g->main_log, g->pub2, &r), VG_E_CHECKSUM);
  assert_int_equal(r.status, VG_AUDIT_SIGNATURE);
  assert_int_equal(r.line, EVERY + 1);
  assert_non_null(strstr(r.reason, "not the expected key"));
  assert_int_equal(vg_audit_verify(g->main_log, NULL, &r), VG_E_INVALID);
}

static void test_truncated_and_repair(void **state)
{
  char p[160], torn[176];
  uint8_t *buf = NULL;
  size_t len = 0, off = 0, cut;
  vg_audit_report r;
  vg_audit *w = NULL;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  uint64_t removed = 0, seq = 0;
  vg_audit_entry e;
  struct stat st;
  (void)state;
  assert_int_equal(vg_test_read_file(g->main_log, &buf, &len), 0);
  for (size_t ln = 1; ln < 100; ln++) /* start of line 100 (entry 99) */
    off = (size_t)((uint8_t *)memchr(buf + off, '\n', len - off) - buf) + 1;
  cut = off + 57;
  write_bytes(path_in(p, sizeof p, "torn.log"), buf, cut);
  free(buf);
  expect_verdict(p, g->pub, VG_AUDIT_TORN, 100, &r);
  assert_non_null(strstr(r.reason, "truncated entry"));
  assert_int_equal(vg_audit_verify(p, g->pub, &r), VG_E_TRUNCATED);
  assert_int_equal(r.entries, 98);
  /* the writer refuses to append after it */
  assert_int_equal(vg_audit_open(&w, p, g->key, &o), VG_E_TRUNCATED);
  assert_null(w);
  /* repair cuts exactly the torn bytes and keeps them */
  assert_int_equal(vg_audit_repair(p, &removed), VG_OK);
  assert_int_equal(removed, 57);
  snprintf(torn, sizeof torn, "%s.torn", p);
  assert_int_equal(stat(torn, &st), 0);
  assert_int_equal(st.st_size, 57);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal((size_t)st.st_size, off);
  assert_int_equal(vg_audit_repair(p, &removed), VG_OK); /* idempotent */
  assert_int_equal(removed, 0);
  /* left: entries 1..98, signed up to 64: an unsigned tail from line 66 */
  expect_verdict(p, g->pub, VG_AUDIT_UNCOVERED, 66, &r);
  assert_int_equal(r.uncovered, 34);
  assert_int_equal(vg_audit_open(&w, p, g->key, &o), VG_E_DENIED);
  o.adopt_tail = 1;
  assert_int_equal(vg_audit_open(&w, p, g->key, &o), VG_OK);
  assert_int_equal(vg_audit_last_seq(w), 98);
  fill_entry(&e, &g->a[0], "UNCLASSIFIED");
  e.time_us = 0; /* now */
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK);
  assert_int_equal(seq, 99);
  assert_int_equal(vg_audit_close(w), VG_OK);
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, 99);
}

/* A line for entry @p e as an attacker would write it (fields in another order than the writer's). */
static char *forge_line(const vg_audit_entry *e)
{
  char d[65], pv[65], h[65], *s = malloc(2048);
  static const char hx[] = "0123456789abcdef";
  assert_non_null(s);
  for (int i = 0; i < 32; i++) {
    d[2 * i] = hx[e->digest[i] >> 4], d[2 * i + 1] = hx[e->digest[i] & 15];
    pv[2 * i] = hx[e->prev[i] >> 4], pv[2 * i + 1] = hx[e->prev[i] & 15];
    h[2 * i] = hx[e->hash[i] >> 4], h[2 * i + 1] = hx[e->hash[i] & 15];
  }
  d[64] = pv[64] = h[64] = '\0';
  snprintf(s, 2048,
           "{\"hash\":\"%s\",\"seq\":%llu,\"time_us\":%lld,\"product\":\"%s\",\"version\":\"%s\","
           "\"bytes_blake2b\":\"%s\",\"marking\":\"%s\",\"recipient\":\"%s\",\"egress\":\"%s\",\"decision\":\"%s\","
           "\"reason\":\"%s\",\"policy\":\"%s\",\"prev\":\"%s\"}",
           h, (unsigned long long)e->seq, (long long)e->time_us, e->product, e->version, d, e->marking, e->recipient,
           e->egress, e->decision == VG_AUDIT_ALLOW ? "allow" : "deny", e->reason, e->policy, pv);
  return s;
}

static void test_forged_tail(void **state)
{
  lines L = main_lines();
  vg_audit_report r;
  vg_audit_entry e;
  char p[160];
  (void)state;
  /* the attacker knows the format and the last hash: a self-consistent entry 201 */
  expect_verdict(g->main_log, g->pub, VG_AUDIT_OK, 0, &r);
  memset(&e, 0, sizeof e);
  e.seq = N_MAIN + 1;
  e.time_us = T0 + 999999999;
  e.product = "site-7";
  e.version = "9";
  e.marking = "SECRET//NOFORN";
  e.recipient = "MEX";
  e.egress = "export";
  e.decision = VG_AUDIT_ALLOW;
  e.reason = "releasable";
  e.policy = "2026-06";
  memcpy(e.prev, r.last_hash, 32);
  assert_int_equal(vg_audit_entry_hash(&e, e.hash), VG_OK);
  L.l[L.n++] = forge_line(&e);
  tamper_case("forged.log", &L, VG_AUDIT_UNCOVERED, N_MAIN + 5);
  expect_verdict(path_in(p, sizeof p, "forged.log"), g->pub, VG_AUDIT_UNCOVERED, N_MAIN + 5, &r);
  assert_int_equal(r.uncovered, 1);
  assert_int_equal(r.last_seq, N_MAIN + 1);
  assert_int_equal(r.covered_seq, N_MAIN);
  assert_int_equal(vg_audit_verify(p, g->pub, &r), VG_E_CHECKSUM);
  assert_non_null(strstr(r.reason, "no signature covers it"));
  /* a writer will not sign it unasked */
  {
    vg_audit *w = NULL;
    assert_int_equal(vg_audit_open(&w, p, g->key, NULL), VG_E_DENIED);
    assert_null(w);
  }
  /* and a checkpoint for it made with another key is a bad signature */
  {
    char cp[512], key[65], chain[65];
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
      key[2 * i] = hx[g->pub2[i] >> 4], key[2 * i + 1] = hx[g->pub2[i] & 15];
      chain[2 * i] = hx[e.hash[i] >> 4], chain[2 * i + 1] = hx[e.hash[i] & 15];
    }
    key[64] = chain[64] = '\0';
    snprintf(cp, sizeof cp, "{\"checkpoint\":%d,\"chain\":\"%s\",\"time_us\":1,\"key\":\"%s\",\"sig\":\"%0128d\"}",
             N_MAIN + 1, chain, key, 0);
    L.l[L.n++] = strdup(cp);
    tamper_case("forged_cp.log", &L, VG_AUDIT_SIGNATURE, N_MAIN + 6);
  }
  free_lines(&L);
}

static void test_malformed(void **state)
{
  static const struct {
    const char *from, *to;
  } k_edit[] = {
    {"\"policy\":", "\"note\":\"x\",\"policy\":"}, /* a member riding along unhashed */
    {"\"policy\":", "\"\\u001b[2J\":1,\"policy\":"},   /* one named with a terminal escape */
    {"\"decision\":\"", "\"decision\":\"m"},       /* "mallow" / "mdeny" */
    {"\"seq\":", "\"seq\":-"},                    /* negative */
    {"\"time_us\":", "\"time_us\":0.5e"},          /* not an integer */
    {"{", "["},                                   /* not an object (and not JSON) */
  };
  char p[160];
  vg_audit_report r;
  (void)state;
  for (size_t i = 0; i < sizeof k_edit / sizeof k_edit[0]; i++) {
    lines L = main_lines();
    char *ln = line_at(&L, 5), *at = strstr(ln, k_edit[i].from), *nl;
    assert_non_null(at);
    nl = malloc(strlen(ln) + strlen(k_edit[i].to) + 1);
    assert_non_null(nl);
    sprintf(nl, "%.*s%s%s", (int)(at - ln), ln, k_edit[i].to, at + strlen(k_edit[i].from));
    free(L.l[4]);
    L.l[4] = nl;
    write_lines(path_in(p, sizeof p, "malformed.log"), &L);
    expect_verdict(p, g->pub, VG_AUDIT_MALFORMED, 5, &r);
    for (const char *c = r.reason; *c; c++) /* the reason quotes the input in printable ASCII only */
      assert_true(*c >= 0x20 && *c < 0x7f);
    free_lines(&L);
  }
  {
    lines L = main_lines(); /* upper-case hex */
    char *h = strstr(line_at(&L, 5), "\"hash\":\"") + 8;
    for (int i = 0; i < 64; i++)
      if (h[i] >= 'a' && h[i] <= 'f')
        h[i] = (char)(h[i] - 'a' + 'A');
    tamper_case("upper.log", &L, VG_AUDIT_MALFORMED, 5);
    free_lines(&L);
  }
  {
    lines L = main_lines(); /* an empty line */
    free(L.l[6]);
    L.l[6] = strdup("");
    tamper_case("blank.log", &L, VG_AUDIT_MALFORMED, 7);
    free_lines(&L);
  }
  {
    lines L = main_lines(); /* a line longer than the limit */
    char *big = malloc(VG_AUDIT_LINE_MAX + 16);
    assert_non_null(big);
    memset(big, ' ', VG_AUDIT_LINE_MAX + 15);
    big[VG_AUDIT_LINE_MAX + 15] = '\0';
    free(L.l[2]);
    L.l[2] = big;
    write_lines(path_in(p, sizeof p, "long.log"), &L);
    assert_int_equal(vg_audit_verify(p, g->pub, &r), VG_E_LIMIT);
    assert_int_equal(r.status, VG_AUDIT_MALFORMED);
    assert_int_equal(r.line, 3);
    free_lines(&L);
  }
  assert_int_equal(vg_audit_verify("/nonexistent/audit.log", g->pub, &r), VG_E_IO);
  assert_int_equal(r.status, VG_AUDIT_UNREADABLE);
}

/* The same fields in other JSON text: spacing, member order and escapes do not matter. */
static void test_reformatted(void **state)
{
  lines L = main_lines();
  char p[160];
  vg_audit_report r;
  (void)state;
  for (size_t i = 0; i < L.n; i++) {
    json_error_t err;
    json_t *o = json_loads(L.l[i], 0, &err);
    char *s;
    assert_non_null(o);
    /* sorted keys, spaces, \u escapes for non-ASCII (none here) and "/" escaped */
    s = json_dumps(o, JSON_SORT_KEYS | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH | JSON_INDENT(0));
    assert_non_null(s);
    for (char *c = s; *c; c++) /* JSON_INDENT(0) puts newlines between members */
      if (*c == '\n')
        *c = ' ';
    free(L.l[i]);
    L.l[i] = s;
    json_decref(o);
  }
  assert_non_null(strstr(L.l[0], "\\/")); /* the marking's slashes are escaped now */
  write_lines(path_in(p, sizeof p, "reformatted.log"), &L);
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, N_MAIN);
  free_lines(&L);
}

/* ---- writers ----------------------------------------------------------------------------- */

static void test_reopen_continues(void **state)
{
  char p[160];
  vg_audit *w = NULL;
  vg_audit_entry e;
  vg_audit_report r0, r;
  uint64_t seq = 0;
  lines L;
  json_t *o;
  uint8_t *prev;
  size_t n;
  (void)state;
  copy_file(g->main_log, path_in(p, sizeof p, "reopen.log"));
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r0);
  assert_int_equal(vg_audit_open(&w, p, g->key, NULL), VG_OK);
  assert_int_equal(vg_audit_last_seq(w), N_MAIN);
  for (int i = 0; i < 3; i++) {
    fill_entry(&e, &g->a[i], "UNCLASSIFIED//REL TO USA, MEX");
    assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK);
    assert_int_equal(seq, N_MAIN + 1 + i);
  }
  assert_int_equal(vg_audit_checkpoint(w), VG_OK);
  assert_int_equal(vg_audit_checkpoint(w), VG_OK); /* nothing new: no second line */
  assert_int_equal(vg_audit_close(w), VG_OK);      /* nor a third */
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, N_MAIN + 3);
  assert_int_equal(r.checkpoints, 5);
  L = read_lines(p);
  assert_int_equal(L.n, N_MAIN + 4 + 4);
  o = json_loads(line_at(&L, N_MAIN + 5), 0, NULL);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "seq")), N_MAIN + 1);
  prev = vg_test_unhex_or_fail(json_string_value(json_object_get(o, "prev")), &n);
  assert_memory_equal(prev, r0.last_hash, 32);
  free(prev);
  json_decref(o);
  free_lines(&L);
}

static void test_lock(void **state)
{
  char p[160];
  vg_audit *a = NULL, *b = NULL;
  (void)state;
  path_in(p, sizeof p, "lock.log");
  assert_int_equal(vg_audit_open(&a, p, g->key, NULL), VG_OK);
  assert_int_equal(vg_audit_open(&b, p, g->key, NULL), VG_E_DENIED);
  assert_null(b);
  assert_non_null(strstr(vg_error_last(), "another writer"));
  assert_int_equal(vg_audit_repair(p, NULL), VG_E_DENIED);
  assert_int_equal(vg_audit_close(a), VG_OK);
  assert_int_equal(vg_audit_open(&b, p, g->key, NULL), VG_OK);
  assert_int_equal(vg_audit_close(b), VG_OK);
  assert_int_equal(vg_audit_close(NULL), VG_OK);
}

#define FORK_SESSIONS 10
#define FORK_PER_SESSION 10

/* A child: FORK_SESSIONS sessions of FORK_PER_SESSION appends, waiting for the lock each time. */
static int child_appends(const char *log, const char *who)
{
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  o.wait_lock = 1;
  o.checkpoint_every = 4;
  for (int s = 0; s < FORK_SESSIONS; s++) {
    vg_audit *w = NULL;
    if (vg_audit_open(&w, log, g->key, &o) != VG_OK) {
      fprintf(stderr, "child %s: open: %s\n", who, vg_error_last());
      return 1;
    }
    for (int i = 0; i < FORK_PER_SESSION; i++) {
      char prod[32];
      vg_audit_entry e;
      memset(&e, 0, sizeof e);
      snprintf(prod, sizeof prod, "%s-%d", who, s * FORK_PER_SESSION + i);
      e.product = prod;
      e.version = "1";
      e.marking = "UNCLASSIFIED//REL TO USA, MEX";
      e.recipient = who;
      e.egress = "ogcapi";
      e.decision = VG_AUDIT_ALLOW;
      e.reason = "";
      e.policy = "p";
      if (vg_audit_append(w, &e, NULL) != VG_OK) {
        fprintf(stderr, "child %s: append: %s\n", who, vg_error_last());
        vg_audit_close(w);
        return 1;
      }
    }
    if (vg_audit_close(w) != VG_OK)
      return 1;
  }
  return 0;
}

typedef struct fork_count {
  int seen[2][FORK_SESSIONS * FORK_PER_SESSION];
  uint64_t next_seq;
  int bad;
} fork_count;

static int count_fork(const vg_audit_entry *e, uint64_t line, void *ud)
{
  fork_count *c = ud;
  int who = !strcmp(e->recipient, "A") ? 0 : !strcmp(e->recipient, "B") ? 1 : -1;
  int k = atoi(e->product + 2);
  (void)line;
  if (who < 0 || e->seq != ++c->next_seq || k < 0 || k >= FORK_SESSIONS * FORK_PER_SESSION)
    c->bad = 1;
  else
    c->seen[who][k]++;
  return VG_OK;
}

static void test_two_processes(void **state)
{
  char p[160];
  pid_t pid[2];
  vg_audit_report r;
  fork_count *c = calloc(1, sizeof *c);
  (void)state;
  assert_non_null(c);
  path_in(p, sizeof p, "fork.log");
  for (int k = 0; k < 2; k++) {
    pid[k] = fork();
    assert_true(pid[k] >= 0);
    if (pid[k] == 0)
      _exit(child_appends(p, k ? "B" : "A"));
  }
  for (int k = 0; k < 2; k++) {
    int st = 0;
    assert_int_equal(waitpid(pid[k], &st, 0), pid[k]);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, 2 * FORK_SESSIONS * FORK_PER_SESSION);
  assert_int_equal(vg_audit_replay(p, g->pub, NULL, count_fork, c, &r), VG_OK);
  assert_false(c->bad);
  for (int w = 0; w < 2; w++)
    for (int k = 0; k < FORK_SESSIONS * FORK_PER_SESSION; k++)
      assert_int_equal(c->seen[w][k], 1);
  free(c);
}

static void test_dead_writer(void **state)
{
  char p[160];
  pid_t pid;
  int st = 0;
  vg_audit_report r;
  vg_audit *w = NULL;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  (void)state;
  path_in(p, sizeof p, "dead.log");
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* appends 3 entries with no checkpoint and dies without closing */
    vg_audit_opts co = VG_AUDIT_OPTS_INIT;
    vg_audit *cw = NULL;
    vg_audit_entry e;
    co.checkpoint_every = 0;
    if (vg_audit_open(&cw, p, g->key, &co) != VG_OK)
      _exit(1);
    for (int i = 0; i < 3; i++) {
      fill_entry(&e, &g->a[i], "UNCLASSIFIED");
      if (vg_audit_append(cw, &e, NULL) != VG_OK)
        _exit(1);
    }
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  expect_verdict(p, g->pub, VG_AUDIT_UNCOVERED, 1, &r);
  assert_int_equal(r.uncovered, 3);
  assert_int_equal(r.checkpoints, 0);
  assert_int_equal(vg_audit_open(&w, p, g->key, &o), VG_E_DENIED); /* the lock died with it; the tail did not */
  o.adopt_tail = 1;
  assert_int_equal(vg_audit_open(&w, p, g->key, &o), VG_OK);
  assert_int_equal(vg_audit_close(w), VG_OK);
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, 3);
}

/* ---- limits and text rules --------------------------------------------------------------- */

static void test_limits(void **state)
{
  static const struct {
    size_t off, max;
  } k_lim[] = {
    {offsetof(vg_audit_entry, product), VG_AUDIT_PRODUCT_MAX},
    {offsetof(vg_audit_entry, version), VG_AUDIT_VERSION_MAX},
    {offsetof(vg_audit_entry, marking), VG_AUDIT_MARKING_MAX},
    {offsetof(vg_audit_entry, recipient), VG_AUDIT_RECIPIENT_MAX},
    {offsetof(vg_audit_entry, egress), VG_AUDIT_EGRESS_MAX},
    {offsetof(vg_audit_entry, reason), VG_AUDIT_REASON_MAX},
    {offsetof(vg_audit_entry, policy), VG_AUDIT_POLICY_MAX},
  };
  char p[160], *s = malloc(VG_AUDIT_REASON_MAX + 2);
  vg_audit *w = NULL;
  vg_audit_entry e, base;
  vg_audit_report r;
  uint64_t seq = 0, n_ok = 0;
  (void)state;
  assert_non_null(s);
  path_in(p, sizeof p, "limits.log");
  assert_int_equal(vg_audit_open(&w, p, g->key, NULL), VG_OK);
  fill_entry(&base, &g->a[1], "UNCLASSIFIED");
  for (size_t i = 0; i < sizeof k_lim / sizeof k_lim[0]; i++) {
    const char **f;
    e = base;
    f = (const char **)((char *)&e + k_lim[i].off);
    /* every byte of a quote: the longest escaped line still fits (egress: a token) */
    memset(s, f == &e.egress ? 'x' : '"', k_lim[i].max + 1);
    s[k_lim[i].max] = '\0';
    *f = s;
    assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK);
    n_ok++;
    s[k_lim[i].max] = 'x';
    s[k_lim[i].max + 1] = '\0';
    assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_LIMIT);
  }
  /* all the fields at their limits at once, of backslashes: under VG_AUDIT_LINE_MAX */
  {
    static char big[7][VG_AUDIT_REASON_MAX + 1];
    e = base;
    for (size_t i = 0; i < sizeof k_lim / sizeof k_lim[0]; i++) {
      memset(big[i], i == 4 ? 'y' : '\\', k_lim[i].max);
      big[i][k_lim[i].max] = '\0';
      *(const char **)((char *)&e + k_lim[i].off) = big[i];
    }
    assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK);
    n_ok++;
  }
  e = base;
  e.recipient = "";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.marking = "";
  e.reason = "";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK); /* an unmarked product's denial */
  n_ok++;
  e = base;
  e.reason = "line\nbreak";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.product = "bad\xff utf-8";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.product = "\xed\xa0\x80"; /* a surrogate */
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.product = "x\xc2\x9b" "31m"; /* C1 CSI: a terminal escape */
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.egress = "Export";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.policy = NULL;
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.decision = (vg_audit_decision)7;
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.time_us = -5;
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_E_INVALID);
  e = base;
  e.product = "caf\xc3\xa9 \xe2\x80\x94 sitio";
  assert_int_equal(vg_audit_append(w, &e, &seq), VG_OK);
  n_ok++;
  assert_int_equal(seq, n_ok); /* refusals took no seq */
  assert_int_equal(vg_audit_close(w), VG_OK);
  expect_verdict(p, g->pub, VG_AUDIT_OK, 0, &r);
  assert_int_equal(r.entries, n_ok);
  free(s);
}

static void test_keys(void **state)
{
  char p[160], log[160], pubp[176];
  char hx[65];
  vg_audit *w = NULL;
  uint8_t pub[32];
  (void)state;
  /* never overwrite */
  assert_int_equal(vg_audit_keygen(g->key, hx), VG_E_INVALID);
  assert_int_equal(vg_audit_keygen(path_in(p, sizeof p, "k3"), hx), VG_OK);
  snprintf(pubp, sizeof pubp, "%s.pub", p);
  assert_int_equal(vg_audit_pub_load(pubp, pub), VG_OK);
  assert_int_equal(strlen(hx), 64);
  /* a secret key others can read is refused */
  assert_int_equal(chmod(p, 0640), 0);
  assert_int_equal(vg_audit_open(&w, path_in(log, sizeof log, "keys.log"), p, NULL), VG_E_DENIED);
  assert_int_equal(chmod(p, 0600), 0);
  assert_int_equal(vg_audit_open(&w, log, p, NULL), VG_OK);
  assert_int_equal(vg_audit_close(w), VG_OK);
  /* a log signed by one key is not continued with another */
  {
    vg_audit_entry e;
    assert_int_equal(vg_audit_open(&w, log, p, NULL), VG_OK);
    fill_entry(&e, &g->a[1], "UNCLASSIFIED");
    assert_int_equal(vg_audit_append(w, &e, NULL), VG_OK);
    assert_int_equal(vg_audit_close(w), VG_OK);
    w = NULL;
    assert_int_equal(vg_audit_open(&w, log, g->key, NULL), VG_E_CHECKSUM);
    assert_null(w);
  }
  /* public key files: hex only */
  write_bytes(pubp, "  zz\n", 5);
  assert_int_equal(vg_audit_pub_load(pubp, pub), VG_E_MALFORMED);
  assert_int_equal(vg_audit_pub_load("/nonexistent.pub", pub), VG_E_IO);
}

int test_server_audit_run(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known_answers),
    cmocka_unit_test(test_verify_ok), cmocka_unit_test(test_append_many),
    cmocka_unit_test(test_group_commit_threads),
    cmocka_unit_test(test_replay),
    cmocka_unit_test(test_replay_refuses_tampered),
    cmocka_unit_test(test_tamper_marking),
    cmocka_unit_test(test_tamper_hash),
    cmocka_unit_test(test_tamper_recipient),
    cmocka_unit_test(test_tamper_signature),
    cmocka_unit_test(test_tamper_delete),
    cmocka_unit_test(test_tamper_swap),
    cmocka_unit_test(test_tamper_duplicate),
    cmocka_unit_test(test_tamper_checkpoint_moved),
    cmocka_unit_test(test_tamper_replaced),
    cmocka_unit_test(test_tamper_checkpoint_chain),
    cmocka_unit_test(test_wrong_key),
    cmocka_unit_test(test_truncated_and_repair),
    cmocka_unit_test(test_forged_tail),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_reformatted),
    cmocka_unit_test(test_reopen_continues),
    cmocka_unit_test(test_lock),
    cmocka_unit_test(test_two_processes),
    cmocka_unit_test(test_dead_writer),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_keys),
  };
  return cmocka_run_group_tests_name("server_audit", tests, group_setup, group_teardown);
}
