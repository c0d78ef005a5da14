/*
 * vigia export: the register's sites released to one partner, as one product
 * (GeoJSON, KML, CoT, STIX, HTML, KMZ). Every site goes through vg_release_allowed; what
 * is withheld is counted and, with --verbose, named with the rule.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vigia/products.h"
#include "vigia/server.h"
#include "vigia/sites.h"

void vg_cmd_export_help(void)
{
  printf("usage: vigia export --db REGISTER --to CCC --format FMT -o FILE [options]\n\n"
         "Writes the register's live sites released to partner CCC (a GENC alpha-3 code) as\n"
         "one product: geojson (RFC 7946), kml (KML 2.2), cot (Cursor on Target 2.0 events),\n"
         "stix (STIX 2.1 bundle), html (one self-contained page: banners, table, image chips,\n"
         "map), kmz (ZIP of the KML and the sites' image chips). A site's marking is derived\n"
         "from the markings of the sources of its observations (highest classification,\n"
         "REL TO intersected); a site\n"
         "is written only when that marking releases it to CCC at its clearance (default\n"
         "deny: unmarked, NOFORN, another country, a higher level all withhold it). The\n"
         "product carries the derivation of its sites' markings.\n\n"
         "options:\n"
         "  --db REGISTER     the register (SQLite path or postgresql://...)\n"
         "  --to CCC          the partner (GENC alpha-3, e.g. MEX)\n"
         "  --cleared LEVEL   the partner's clearance: UNCLASSIFIED (default), RESTRICTED,\n"
         "                    CONFIDENTIAL, SECRET, TOP SECRET\n"
         "  --format FMT      geojson, kml, cot, stix, html, kmz\n"
         "  -o FILE           where to write (- for standard output)\n"
         "  --box LAT0,LON0,LAT1,LON1  only sites in this box (default: everywhere)\n"
         "  --title TEXT      the product's title\n"
         "  --candidates      candidates too (default: confirmed sites only)\n"
         "  --audit LOG       record every decision (each site released or withheld) in this\n"
         "                    audit chain (docs/formats/audit.md), with the BLAKE2b of the\n"
         "                    product's bytes for the released ones\n"
         "  --key KEY         the audit chain's Ed25519 secret key (vigia audit keygen)\n"
         "  -v, --verbose     name every withheld site and the rule that withheld it\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 written (possibly empty), 1 failed, 2 usage\n");
}

/* One site's decision, kept for the audit chain (written once the product's bytes exist). */
typedef struct {
  int64_t site_id;
  int allowed;
  char banner[VG_MARKING_BANNER_MAX];
  char why[256];
} decision;

typedef struct {
  int verbose;
  size_t allowed, denied;
  decision *d;
  size_t nd, capd;
  int nomem;
} tally;

static void on_decision(void *ud, const vg_release_event *e)
{
  tally *t = ud;
  if (t->nd == t->capd) {
    size_t nc = t->capd ? 2 * t->capd : 64;
    decision *nd = realloc(t->d, nc * sizeof *nd);
    if (!nd)
      t->nomem = 1;
    else {
      t->d = nd;
      t->capd = nc;
    }
  }
  if (t->nd < t->capd) {
    decision *d = &t->d[t->nd++];
    d->site_id = e->site_id;
    d->allowed = e->allowed;
    snprintf(d->banner, sizeof d->banner, "%s", e->banner);
    snprintf(d->why, sizeof d->why, "%s", e->why);
  }
  if (e->allowed) {
    t->allowed++;
    return;
  }
  t->denied++;
  if (t->verbose)
    fprintf(stderr, "vigia export: site %lld withheld: %s (%s)\n", (long long)e->site_id, e->why, e->banner);
}

static int parse_level(const char *s, vg_class *out)
{
  static const char *const k[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, k[i])) {
      *out = (vg_class)(VG_CLASS_U + i);
      return 0;
    }
  return -1;
}

int vg_cmd_export(int argc, char **argv)
{
  static const struct option lo[] = {
    {"db", required_argument, NULL, 'd'},      {"to", required_argument, NULL, 't'},
    {"cleared", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
    {"box", required_argument, NULL, 'b'},     {"title", required_argument, NULL, 'T'},
    {"candidates", no_argument, NULL, 'C'},    {"audit", required_argument, NULL, 'a'},   {"key", required_argument, NULL, 'k'},
    {"verbose", no_argument, NULL, 'v'},       {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  const char *db = NULL, *to = NULL, *fmt = NULL, *outp = NULL, *title = NULL, *audit = NULL, *key = NULL;
  double box[4] = {-90, 90, -180, 180};
  vg_recipient r;
  vg_product_format f = VG_PRODUCT_GEOJSON;
  vg_register *reg = NULL;
  vg_product_site *s = NULL;
  size_t n = 0;
  vg_buf b;
  tally t;
  int ch, status = VG_EXIT_FAILED, candidates = 0;
  memset(&r, 0, sizeof r);
  memset(&t, 0, sizeof t);
  r.cleared = VG_CLASS_U;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "o:vh", lo, NULL)) != -1) {
    switch (ch) {
    case 'd': db = optarg; break;
    case 't': to = optarg; break;
    case 'c':
      if (parse_level(optarg, &r.cleared)) {
        fprintf(stderr, "vigia export: --cleared '%s': UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET or TOP SECRET\n",
                optarg);
        return VG_EXIT_USAGE;
      }
      break;
    case 'f': fmt = optarg; break;
    case 'o': outp = optarg; break;
    case 'T': title = optarg; break;
    case 'b':
      if (sscanf(optarg, "%lf,%lf,%lf,%lf", &box[0], &box[2], &box[1], &box[3]) != 4 || !(box[0] <= box[1]) ||
          !(box[2] <= box[3])) {
        fprintf(stderr, "vigia export: --box wants LAT0,LON0,LAT1,LON1 with LAT0 <= LAT1, LON0 <= LON1\n");
        return VG_EXIT_USAGE;
      }
      break;
    case 'v': t.verbose = 1; break;
    case 'a': audit = optarg; break;
    case 'C': candidates = 1; break;
    case 'k': key = optarg; break;
    case 'h': vg_cmd_export_help(); return VG_EXIT_CLEAN;
    default: vg_cmd_export_help(); return VG_EXIT_USAGE;
    }
  }
  if (!db || !to || !fmt || !outp || optind < argc) {
    fprintf(stderr, "vigia export: expected --db REGISTER --to CCC --format FMT -o FILE\n");
    return VG_EXIT_USAGE;
  }
  if (!audit != !key) {
    fprintf(stderr, "vigia export: --audit and --key go together\n");
    return VG_EXIT_USAGE;
  }
  if (strlen(to) != 3 || !vg_genc3_known(to)) {
    fprintf(stderr, "vigia export: --to '%s' is not a GENC alpha-3 country code\n", to);
    return VG_EXIT_USAGE;
  }
  memcpy(r.country, to, 4);
  if (vg_product_format_parse(fmt, &f) != VG_OK) {
    fprintf(stderr, "vigia export: %s\n", vg_error_last());
    return VG_EXIT_USAGE;
  }
  vg_buf_init(&b, 1u << 30);
  if (vg_register_open(&reg, db) != VG_OK || vg_products_collect(reg, box, &r, on_decision, &t, &s, &n) != VG_OK) {
    fprintf(stderr, "vigia export: %s\n", vg_error_last());
    goto done;
  }
  if (!candidates) { /* released, but not asked for: neither written nor recorded as delivered */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
      if (s[i].site.state == VG_SITE_CONFIRMED)
        s[kept++] = s[i];
    for (size_t i = 0; i < t.nd; i++)
      if (t.d[i].allowed) {
        int keep = 0;
        for (size_t j = 0; j < kept && !keep; j++)
          keep = s[j].site.id == t.d[i].site_id;
        if (!keep) {
          t.d[i].allowed = -1; /* not part of this product */
          t.allowed--;
        }
      }
    n = kept;
  }
  {
    vg_product_opts po = VG_PRODUCT_OPTS_INIT;
    po.title = title;
    if (vg_product_write_reg(&b, f, reg, s, n, &po) != VG_OK) {
      fprintf(stderr, "vigia export: %s\n", vg_error_last());
      goto done;
    }
  }
  if (t.nomem) {
    fprintf(stderr, "vigia export: out of memory recording the decisions\n");
    goto done;
  }
  /* the audit chain first (a release that cannot be recorded does not happen): every decision,
   * denials included; a released site with the digest of the bytes that carry it (product
   * "site/ID", version: the format) */
  if (audit) {
    vg_audit *a = NULL;
    vg_audit_opts ao = VG_AUDIT_OPTS_INIT;
    uint8_t digest[32];
    int rc = vg_audit_open(&a, audit, key, &ao);
    vg_audit_digest(b.data, b.len, digest);
    for (size_t i = 0; rc == VG_OK && i < t.nd; i++) {
      vg_audit_entry e;
      char product[48];
      if (t.d[i].allowed < 0)
        continue; /* a candidate left out of a confirmed-only product: no decision to record */
      memset(&e, 0, sizeof e);
      snprintf(product, sizeof product, "site/%lld", (long long)t.d[i].site_id);
      e.product = product;
      e.version = fmt;
      if (t.d[i].allowed)
        memcpy(e.digest, digest, sizeof digest);
      e.marking = t.d[i].banner;
      e.recipient = to;
      e.egress = "export";
      e.decision = t.d[i].allowed ? VG_AUDIT_ALLOW : VG_AUDIT_DENY;
      e.reason = t.d[i].why;
      e.policy = VG_RELEASE_POLICY;
      rc = vg_audit_append(a, &e, NULL);
    }
    if (a && vg_audit_close(a) != VG_OK && rc == VG_OK)
      rc = VG_E_IO;
    if (rc != VG_OK) {
      /* not on record, not released: the product is not written */
      fprintf(stderr, "vigia export: %s: the audit chain could not record the release: %s\n", audit, vg_error_last());
      goto done;
    }
  }
  {
    FILE *o = strcmp(outp, "-") ? fopen(outp, "wb") : stdout;
    int ok = o && (!b.len || fwrite(b.data, 1, b.len, o) == b.len);
    if (o && o != stdout && fclose(o) != 0)
      ok = 0;
    if (!ok) {
      fprintf(stderr, "vigia export: cannot write %s\n", outp);
      goto done;
    }
  }
  fprintf(stderr, "export: %zu sites released to %s as %s, %zu withheld\n", t.allowed, to, fmt, t.denied);
  status = VG_EXIT_CLEAN;
done:
  vg_buf_free(&b);
  free(s);
  free(t.d);
  vg_register_close(reg);
  return status;
}
