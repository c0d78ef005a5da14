/*
 * vigia audit: the audit chain of release decisions (lib/server/audit.c,
 * docs/formats/audit.md).
 *
 *   vigia audit keygen KEY
 *   vigia audit verify LOG --pub KEY.pub [--json]
 *   vigia audit replay LOG [--recipient R] [--pub KEY.pub] [--json]
 *   vigia audit append LOG --key KEY --product ID --version V [--bytes FILE] --marking M --recipient R
 *                      --egress E --decision allow|deny --reason TEXT --policy P [--adopt-tail]
 *   vigia audit checkpoint LOG --key KEY [--adopt-tail]
 *   vigia audit repair LOG
 *
 * append is the manual and test entry point: the server and the exports call
 * the library directly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigia/server.h"

void vg_cmd_audit_help(void)
{
  printf("usage: vigia audit keygen KEY\n"
         "       vigia audit verify LOG --pub KEY.pub [--json]\n"
         "       vigia audit replay LOG [--recipient R] [--pub KEY.pub] [--json]\n"
         "       vigia audit append LOG --key KEY --product ID --version V [--bytes FILE] --marking M\n"
         "                          --recipient R --egress E --decision allow|deny --reason TEXT --policy P\n"
         "                          [--adopt-tail]\n"
         "       vigia audit checkpoint LOG --key KEY [--adopt-tail]\n"
         "       vigia audit repair LOG\n"
         "\n"
         "The append-only, hash-chained log of release decisions (docs/formats/audit.md): each entry\n"
         "is linked to the one before by a BLAKE2b-256 hash, and Ed25519 checkpoints sign the chain\n"
         "every %d entries and when a writer closes.\n"
         "\n"
         "  keygen      create an Ed25519 key pair: KEY (secret, mode 0600) and KEY.pub (hex);\n"
         "              prints the public key. Never overwrites.\n"
         "  verify      recompute every hash, link and checkpoint signature against the expected\n"
         "              public key; report the first bad line and why.\n"
         "  replay      the deliveries (allow decisions) per recipient: product, version, egress,\n"
         "              time, digest of the bytes sent. Checked as verify does; without --pub the\n"
         "              signatures are checked against the log's own key (consistency, not authorship).\n"
         "  append      record one decision (the digest of --bytes FILE; a denial without --bytes\n"
         "              records zeros), then sign the chain; prints the entry's seq.\n"
         "  checkpoint  sign the chain now; with --adopt-tail, sign entries a dead writer left unsigned\n"
         "              (look at them first: they could be forged).\n"
         "  repair      remove a torn last line left by a crash (saved to LOG.torn first).\n"
         "\n"
         "options:\n"
         "  --json          verify, replay: one JSON object on stdout\n"
         "  --adopt-tail    append, checkpoint: accept entries after the last checkpoint\n"
         "\n"
         "exit status: 0 valid (every entry signed by the expected key); 1 tampered, torn, malformed,\n"
         "unreadable or failed; 2 usage; 3 verify and replay: links and signatures intact but the last\n"
         "entries follow the last checkpoint (unsigned: they could be forged or cut off unnoticed).\n",
         VG_AUDIT_CHECKPOINT_EVERY);
}

static int usage_err(const char *msg)
{
  fprintf(stderr, "vigia audit: %s (see `vigia help audit`)\n", msg);
  return VG_EXIT_USAGE;
}

static int fail(const char *what, int rc)
{
  fprintf(stderr, "vigia audit %s: %s (%s)\n", what, vg_error_last(), vg_err_name(rc));
  return VG_EXIT_FAILED;
}

static void hex(char *dst, const uint8_t *p, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = hx[p[i] >> 4];
    dst[2 * i + 1] = hx[p[i] & 15];
  }
  dst[2 * n] = '\0';
}

/* ISO 8601 UTC with microseconds. */
static const char *iso(char *buf, size_t cap, int64_t us)
{
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  if (us < 0 || !gmtime_r(&t, &tm)) {
    snprintf(buf, cap, "-");
    return buf;
  }
  snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
  return buf;
}

/* Exit status of a verdict. */
static int exit_of(const vg_audit_report *r)
{
  if (r->status == VG_AUDIT_OK)
    return VG_EXIT_CLEAN;
  return r->status == VG_AUDIT_UNCOVERED ? VG_EXIT_PARTIAL : VG_EXIT_FAILED;
}

static void report_json(vg_jw *w, const char *log, const vg_audit_report *r)
{
  vg_jw_key(w, "log");
  vg_jw_str(w, log);
  vg_jw_key(w, "valid");
  vg_jw_bool(w, r->status == VG_AUDIT_OK);
  vg_jw_key(w, "status");
  vg_jw_str(w, vg_audit_status_name(r->status));
  vg_jw_key(w, "line");
  vg_jw_uint(w, r->line);
  vg_jw_key(w, "reason");
  vg_jw_str(w, r->reason);
  vg_jw_key(w, "lines");
  vg_jw_uint(w, r->lines);
  vg_jw_key(w, "entries");
  vg_jw_uint(w, r->entries);
  vg_jw_key(w, "checkpoints");
  vg_jw_uint(w, r->checkpoints);
  vg_jw_key(w, "last_seq");
  vg_jw_uint(w, r->last_seq);
  vg_jw_key(w, "covered_seq");
  vg_jw_uint(w, r->covered_seq);
  vg_jw_key(w, "uncovered");
  vg_jw_uint(w, r->uncovered);
  vg_jw_key(w, "last_hash");
  vg_jw_hex(w, r->last_hash, VG_AUDIT_HASH_BYTES);
  vg_jw_key(w, "covered_hash");
  vg_jw_hex(w, r->covered_hash, VG_AUDIT_HASH_BYTES);
  vg_jw_key(w, "key");
  if (r->checkpoints)
    vg_jw_hex(w, r->key, VG_AUDIT_PUB_BYTES);
  else
    vg_jw_null(w);
}

static int flush_json(vg_jw *w, vg_buf *b)
{
  int rc = vg_jw_finish(w);
  if (rc == VG_OK) {
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "vigia audit: JSON output: %s\n", vg_strerror(rc));
  }
  vg_buf_free(b);
  return rc;
}

/* The verdict on stderr (problem) and a summary on stdout. */
static void report_text(const char *log, const vg_audit_report *r, const char *keysrc)
{
  char kh[2 * VG_AUDIT_PUB_BYTES + 1], hh[2 * VG_AUDIT_HASH_BYTES + 1];
  if (r->status != VG_AUDIT_OK && r->status != VG_AUDIT_UNCOVERED) {
    fprintf(stderr, "vigia audit: %s: INVALID (%s): %s\n", log, vg_audit_status_name(r->status), r->reason);
    if (r->entries)
      fprintf(stderr, "vigia audit: %s: before line %llu: %llu entries check out (last seq %llu, signed up to "
                      "seq %llu)\n",
              log, (unsigned long long)r->line, (unsigned long long)r->entries, (unsigned long long)r->last_seq,
              (unsigned long long)r->covered_seq);
    return;
  }
  hex(kh, r->key, VG_AUDIT_PUB_BYTES);
  printf("%s: %s: %llu lines, %llu entries, %llu checkpoints\n", log,
         r->status == VG_AUDIT_OK ? "valid" : "links and signatures intact, tail unsigned",
         (unsigned long long)r->lines, (unsigned long long)r->entries, (unsigned long long)r->checkpoints);
  if (r->checkpoints) {
    hex(hh, r->covered_hash, VG_AUDIT_HASH_BYTES);
    printf("signed by   %s (%s)\n", kh, keysrc);
    printf("anchor      seq %llu hash %s\n", (unsigned long long)r->covered_seq, hh);
    printf("            (keep the anchor elsewhere: a log cut back to a checkpoint still verifies)\n");
  }
  if (r->status == VG_AUDIT_UNCOVERED)
    fprintf(stderr, "vigia audit: %s: WARNING: %s\n", log, r->reason);
}

/* ---- verify ------------------------------------------------------------------------------ */

static int do_verify(int argc, char **argv)
{
  const char *log = NULL, *pubpath = NULL;
  uint8_t pub[VG_AUDIT_PUB_BYTES];
  vg_audit_report r;
  int json = 0, rc;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--pub")) {
      if (i + 1 >= argc)
        return usage_err("--pub needs a file");
      pubpath = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "vigia audit verify: unknown option '%s'\n", argv[i]);
      return VG_EXIT_USAGE;
    } else if (!log) {
      log = argv[i];
    } else {
      return usage_err("verify takes one LOG");
    }
  }
  if (!log)
    return usage_err("verify needs a LOG");
  if (!pubpath)
    return usage_err("verify needs the expected public key: --pub KEY.pub");
  if ((rc = vg_audit_pub_load(pubpath, pub)) != VG_OK)
    return fail("verify", rc);
  rc = vg_audit_verify(log, pub, &r);
  if (rc == VG_E_INVALID || rc == VG_E_UNSUPPORTED || rc == VG_E_NOMEM)
    return fail("verify", rc);
  if (json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, (size_t)1 << 20);
    vg_jw_init(&w, &b, 0);
    vg_jw_obj_begin(&w);
    report_json(&w, log, &r);
    vg_jw_obj_end(&w);
    if (flush_json(&w, &b) != VG_OK)
      return VG_EXIT_FAILED;
    if (r.status != VG_AUDIT_OK)
      fprintf(stderr, "vigia audit: %s: %s: %s\n", log, vg_audit_status_name(r.status), r.reason);
  } else {
    report_text(log, &r, "the expected key");
  }
  return exit_of(&r);
}

/* ---- replay ------------------------------------------------------------------------------ */

typedef struct delivery {
  uint64_t seq;
  uint64_t line;
  int64_t time_us;
  char *product, *version, *recipient, *egress, *marking;
  uint8_t digest[VG_AUDIT_HASH_BYTES];
} delivery;

typedef struct deliveries {
  delivery *d;
  size_t n, cap;
} deliveries;

static int collect(const vg_audit_entry *e, uint64_t line, void *ud)
{
  deliveries *ds = ud;
  delivery *x;
  if (ds->n == ds->cap) {
    size_t nc = ds->cap ? 2 * ds->cap : 256;
    delivery *nd = realloc(ds->d, nc * sizeof *nd);
    if (!nd)
      return vg_error_set(VG_E_NOMEM, "replay: %zu deliveries", ds->n);
    ds->d = nd;
    ds->cap = nc;
  }
  x = &ds->d[ds->n];
  memset(x, 0, sizeof *x);
  x->seq = e->seq;
  x->line = line;
  x->time_us = e->time_us;
  memcpy(x->digest, e->digest, VG_AUDIT_HASH_BYTES);
  x->product = strdup(e->product);
  x->version = strdup(e->version);
  x->recipient = strdup(e->recipient);
  x->egress = strdup(e->egress);
  x->marking = strdup(e->marking);
  ds->n++;
  if (!x->product || !x->version || !x->recipient || !x->egress || !x->marking)
    return vg_error_set(VG_E_NOMEM, "replay: %zu deliveries", ds->n);
  return VG_OK;
}

static void deliveries_free(deliveries *ds)
{
  for (size_t i = 0; i < ds->n; i++) {
    free(ds->d[i].product);
    free(ds->d[i].version);
    free(ds->d[i].recipient);
    free(ds->d[i].egress);
    free(ds->d[i].marking);
  }
  free(ds->d);
}

/* By recipient, then log order. */
static int by_recipient(const void *a, const void *b)
{
  const delivery *x = a, *y = b;
  int c = strcmp(x->recipient, y->recipient);
  if (c)
    return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int do_replay(int argc, char **argv)
{
  const char *log = NULL, *pubpath = NULL, *recipient = NULL;
  uint8_t pub[VG_AUDIT_PUB_BYTES];
  vg_audit_report r;
  deliveries ds = {NULL, 0, 0};
  int json = 0, rc, ret = VG_EXIT_FAILED;
  char kh[2 * VG_AUDIT_PUB_BYTES + 1], hh[2 * VG_AUDIT_HASH_BYTES + 1], tb[96];
  const char *keysrc;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--pub") || !strcmp(argv[i], "--recipient")) {
      if (i + 1 >= argc)
        return usage_err("an option needs a value");
      if (!strcmp(argv[i], "--pub"))
        pubpath = argv[++i];
      else
        recipient = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "vigia audit replay: unknown option '%s'\n", argv[i]);
      return VG_EXIT_USAGE;
    } else if (!log) {
      log = argv[i];
    } else {
      return usage_err("replay takes one LOG");
    }
  }
  if (!log)
    return usage_err("replay needs a LOG");
  if (pubpath && (rc = vg_audit_pub_load(pubpath, pub)) != VG_OK)
    return fail("replay", rc);
  keysrc = pubpath ? "the expected key" : "the log's own key, not authenticated: pass --pub to prove authorship";
  rc = vg_audit_replay(log, pubpath ? pub : NULL, recipient, collect, &ds, &r);
  if (rc == VG_E_INVALID || rc == VG_E_UNSUPPORTED || rc == VG_E_NOMEM) {
    ret = fail("replay", rc);
    goto done;
  }
  if (r.status != VG_AUDIT_OK && r.status != VG_AUDIT_UNCOVERED) {
    /* nothing is shown from a log that does not verify: the deliveries could be forged */
    if (json) {
      vg_buf b;
      vg_jw w;
      vg_buf_init(&b, (size_t)1 << 20);
      vg_jw_init(&w, &b, 0);
      vg_jw_obj_begin(&w);
      report_json(&w, log, &r);
      vg_jw_obj_end(&w);
      flush_json(&w, &b);
    }
    report_text(log, &r, keysrc);
    ret = VG_EXIT_FAILED;
    goto done;
  }
  if (ds.n)
    qsort(ds.d, ds.n, sizeof *ds.d, by_recipient);
  hex(kh, r.key, VG_AUDIT_PUB_BYTES);
  if (json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, (size_t)1 << 31);
    vg_jw_init(&w, &b, 0);
    vg_jw_obj_begin(&w);
    report_json(&w, log, &r);
    vg_jw_key(&w, "key_checked");
    vg_jw_str(&w, pubpath ? "expected" : "log");
    vg_jw_key(&w, "recipient_filter");
    if (recipient)
      vg_jw_str(&w, recipient);
    else
      vg_jw_null(&w);
    vg_jw_key(&w, "deliveries");
    vg_jw_uint(&w, ds.n);
    vg_jw_key(&w, "recipients");
    vg_jw_arr_begin(&w);
    for (size_t i = 0; i < ds.n; i++) {
      const delivery *x = &ds.d[i];
      if (i == 0 || strcmp(x->recipient, ds.d[i - 1].recipient)) {
        if (i) {
          vg_jw_arr_end(&w);
          vg_jw_obj_end(&w);
        }
        vg_jw_obj_begin(&w);
        vg_jw_key(&w, "recipient");
        vg_jw_str(&w, x->recipient);
        vg_jw_key(&w, "deliveries");
        vg_jw_arr_begin(&w);
      }
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "seq");
      vg_jw_uint(&w, x->seq);
      vg_jw_key(&w, "line");
      vg_jw_uint(&w, x->line);
      vg_jw_key(&w, "time_us");
      vg_jw_int(&w, x->time_us);
      vg_jw_key(&w, "time");
      vg_jw_str(&w, iso(tb, sizeof tb, x->time_us));
      vg_jw_key(&w, "product");
      vg_jw_str(&w, x->product);
      vg_jw_key(&w, "version");
      vg_jw_str(&w, x->version);
      vg_jw_key(&w, "egress");
      vg_jw_str(&w, x->egress);
      vg_jw_key(&w, "marking");
      vg_jw_str(&w, x->marking);
      vg_jw_key(&w, "bytes_blake2b");
      vg_jw_hex(&w, x->digest, VG_AUDIT_HASH_BYTES);
      vg_jw_key(&w, "signed");
      vg_jw_bool(&w, x->seq <= r.covered_seq);
      vg_jw_obj_end(&w);
    }
    if (ds.n) {
      vg_jw_arr_end(&w);
      vg_jw_obj_end(&w);
    }
    vg_jw_arr_end(&w);
    vg_jw_obj_end(&w);
    if (flush_json(&w, &b) != VG_OK)
      goto done;
    if (r.status == VG_AUDIT_UNCOVERED)
      fprintf(stderr, "vigia audit: %s: WARNING: %s\n", log, r.reason);
  } else {
    printf("log         %s: %llu entries, %llu deliveries%s%s\n", log, (unsigned long long)r.entries,
           (unsigned long long)ds.n, recipient ? " to " : "", recipient ? recipient : "");
    if (r.checkpoints)
      printf("signed by   %s (%s)\n", kh, keysrc);
    for (size_t i = 0; i < ds.n; i++) {
      const delivery *x = &ds.d[i];
      if (i == 0 || strcmp(x->recipient, ds.d[i - 1].recipient)) {
        size_t k = i;
        while (k < ds.n && !strcmp(ds.d[k].recipient, x->recipient))
          k++;
        printf("\nrecipient %s: %zu deliveries\n", x->recipient, k - i);
        printf("  %8s  %-27s  %-10s  %-24s  %-8s  %s\n", "seq", "time (UTC)", "egress", "product", "version",
               "bytes_blake2b");
      }
      hex(hh, x->digest, VG_AUDIT_HASH_BYTES);
      printf("  %8llu  %-27s  %-10s  %-24s  %-8s  %s%s\n", (unsigned long long)x->seq,
             iso(tb, sizeof tb, x->time_us), x->egress, x->product, x->version, hh,
             x->seq <= r.covered_seq ? "" : "  (unsigned)");
    }
    if (r.status == VG_AUDIT_UNCOVERED)
      fprintf(stderr, "vigia audit: %s: WARNING: %s\n", log, r.reason);
  }
  ret = exit_of(&r);
done:
  deliveries_free(&ds);
  return ret;
}

/* ---- keygen, append, checkpoint, repair ------------------------------------------------- */

static int do_keygen(int argc, char **argv)
{
  char pub[2 * VG_AUDIT_PUB_BYTES + 1];
  int rc;
  if (argc != 3 || argv[2][0] == '-')
    return usage_err("keygen takes one KEY path");
  if ((rc = vg_audit_keygen(argv[2], pub)) != VG_OK)
    return fail("keygen", rc);
  printf("%s\n", pub);
  fprintf(stderr, "vigia audit keygen: secret key %s (mode 0600), public key %s.pub\n", argv[2], argv[2]);
  return VG_EXIT_CLEAN;
}

static int do_append(int argc, char **argv, int checkpoint_only)
{
  const char *log = NULL, *key = NULL, *bytes = NULL, *decision = NULL;
  const char *what = checkpoint_only ? "checkpoint" : "append";
  vg_audit_entry e;
  vg_audit_opts o = VG_AUDIT_OPTS_INIT;
  vg_audit *a = NULL;
  uint64_t seq = 0;
  int rc, crc;
  memset(&e, 0, sizeof e);
  const struct {
    const char *opt;
    const char **dst;
  } k_str[] = {
    {"--product", &e.product}, {"--version", &e.version}, {"--marking", &e.marking}, {"--recipient", &e.recipient},
    {"--egress", &e.egress},   {"--reason", &e.reason},   {"--policy", &e.policy},
  };
  o.wait_lock = 1; /* a running writer is waited for, not raced */
  for (int i = 2; i < argc; i++) {
    const char *a_ = argv[i];
    size_t k;
    if (!strcmp(a_, "--adopt-tail")) {
      o.adopt_tail = 1;
      continue;
    }
    if (a_[0] != '-') {
      if (log)
        return usage_err("one LOG only");
      log = a_;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "vigia audit %s: '%s' needs a value or is unknown\n", what, a_);
      return VG_EXIT_USAGE;
    }
    if (!strcmp(a_, "--key")) {
      key = argv[++i];
      continue;
    }
    if (!checkpoint_only && !strcmp(a_, "--bytes")) {
      bytes = argv[++i];
      continue;
    }
    if (!checkpoint_only && !strcmp(a_, "--decision")) {
      decision = argv[++i];
      continue;
    }
    for (k = 0; !checkpoint_only && k < sizeof k_str / sizeof k_str[0]; k++)
      if (!strcmp(a_, k_str[k].opt)) {
        *k_str[k].dst = argv[++i];
        break;
      }
    if (checkpoint_only || k == sizeof k_str / sizeof k_str[0]) {
      fprintf(stderr, "vigia audit %s: unknown option '%s'\n", what, a_);
      return VG_EXIT_USAGE;
    }
  }
  if (!log)
    return usage_err("needs a LOG");
  if (!key)
    return usage_err("needs the signing key: --key KEY");
  if (!checkpoint_only) {
    for (size_t k = 0; k < sizeof k_str / sizeof k_str[0]; k++)
      if (!*k_str[k].dst) {
        fprintf(stderr, "vigia audit append: %s is required (see `vigia help audit`)\n", k_str[k].opt);
        return VG_EXIT_USAGE;
      }
    if (!decision || (strcmp(decision, "allow") && strcmp(decision, "deny")))
      return usage_err("--decision allow|deny is required");
    e.decision = strcmp(decision, "allow") ? VG_AUDIT_DENY : VG_AUDIT_ALLOW;
    if (!bytes && e.decision == VG_AUDIT_ALLOW)
      return usage_err("an allow decision needs --bytes FILE (what was sent)");
    if (bytes && (rc = vg_audit_digest_file(bytes, e.digest)) != VG_OK)
      return fail(what, rc);
  }
  if ((rc = vg_audit_open(&a, log, key, &o)) != VG_OK)
    return fail(what, rc);
  rc = checkpoint_only ? vg_audit_checkpoint(a) : vg_audit_append(a, &e, &seq);
  if (rc != VG_OK) {
    vg_audit_close(a);
    return fail(what, rc);
  }
  seq = vg_audit_last_seq(a);
  if ((crc = vg_audit_close(a)) != VG_OK)
    return fail(what, crc);
  if (checkpoint_only)
    printf("signed up to seq %llu\n", (unsigned long long)seq);
  else
    printf("%llu\n", (unsigned long long)seq);
  return VG_EXIT_CLEAN;
}

static int do_repair(int argc, char **argv)
{
  uint64_t removed = 0;
  int rc;
  if (argc != 3 || argv[2][0] == '-')
    return usage_err("repair takes one LOG");
  if ((rc = vg_audit_repair(argv[2], &removed)) != VG_OK)
    return fail("repair", rc);
  if (removed)
    printf("%s: removed a torn last line of %llu bytes (saved to %s.torn); verify it now\n", argv[2],
           (unsigned long long)removed, argv[2]);
  else
    printf("%s: nothing torn\n", argv[2]);
  return VG_EXIT_CLEAN;
}

int vg_cmd_audit(int argc, char **argv)
{
  const char *sub = argc > 1 ? argv[1] : NULL;
  if (!sub)
    return usage_err("needs a subcommand: keygen, verify, replay, append, checkpoint, repair");
  if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
    vg_cmd_audit_help();
    return VG_EXIT_CLEAN;
  }
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      vg_cmd_audit_help();
      return VG_EXIT_CLEAN;
    }
  if (!strcmp(sub, "keygen"))
    return do_keygen(argc, argv);
  if (!strcmp(sub, "verify"))
    return do_verify(argc, argv);
  if (!strcmp(sub, "replay"))
    return do_replay(argc, argv);
  if (!strcmp(sub, "append"))
    return do_append(argc, argv, 0);
  if (!strcmp(sub, "checkpoint"))
    return do_append(argc, argv, 1);
  if (!strcmp(sub, "repair"))
    return do_repair(argc, argv);
  fprintf(stderr, "vigia audit: unknown subcommand '%s' (see `vigia help audit`)\n", sub);
  return VG_EXIT_USAGE;
}
