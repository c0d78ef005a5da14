/*
 * vigia simulate: a scenario rendered into a flight's products and its truth.
 * vigia demo: the default scenario simulated, every pass exploited into a
 * SQLite register, the sites written as GeoJSON, and the register scored
 * against the truth, with where to look next.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vigia/exploit.h"
#include "vigia/geo.h"
#include "vigia/products.h"
#include "vigia/sim.h"
#include "vigia/sites.h"

#ifndef VG_CLI_DATA_DIR
#define VG_CLI_DATA_DIR "../shared/data"
#endif

static const char *data_dir(const char *given)
{
  const char *d = getenv("VIGIA_DATA");
  return given ? given : d && *d ? d : VG_CLI_DATA_DIR;
}

/* ---- progress ------------------------------------------------------------------------------ */

typedef struct {
  int tty, quiet;
  char last[160];
  struct timespec t0;
} prog;

static double elapsed(const prog *p)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - p->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - p->t0.tv_nsec);
}

static void bar(prog *p, const char *what, double done)
{
  char line[160];
  int n = (int)(done * 30 + 0.5);
  if (p->quiet)
    return;
  if (!p->tty) { /* a log: one line per step, at its end */
    if (done >= 1.0)
      fprintf(stderr, "%6.1f s  %s done\n", elapsed(p), what);
    return;
  }
  snprintf(line, sizeof line, "%-28s [%.*s%*s] %3.0f%%", what, n, "==============================", 30 - n, "",
           100 * done);
  if (strcmp(line, p->last)) {
    fprintf(stderr, "\r%6.1f s  %s", elapsed(p), line);
    snprintf(p->last, sizeof p->last, "%s", line);
  }
  if (done >= 1.0)
    fputc('\n', stderr);
}

static void on_sim(void *ud, const char *stage, int pass, double done)
{
  char what[64];
  if (pass)
    snprintf(what, sizeof what, "pass %d: %s", pass, stage);
  else
    snprintf(what, sizeof what, "%s", stage);
  bar(ud, what, done);
}

static void prog_init(prog *p, int quiet)
{
  memset(p, 0, sizeof *p);
  p->tty = isatty(2);
  p->quiet = quiet;
  clock_gettime(CLOCK_MONOTONIC, &p->t0);
}

/* ---- simulate ------------------------------------------------------------------------------ */

void vg_cmd_simulate_help(void)
{
  printf("usage: vigia simulate [SCENARIO.json] --out DIR [options]\n\n"
         "Renders a surveillance flight over hidden sites (docs/formats/scenario.md): the\n"
         "terrain (dem.tif, MSL), truth.geojson (every site and look-alike), and per pass\n"
         "passN/cube.tif (reflectance cube), passN/thermal.tif (deg C) and passN/video.ts\n"
         "(MPEG-2 TS with ST 0601 + ST 0102 KLV). Without a scenario file, the default\n"
         "(three passes over ten hidden sites). The same scenario and seed give the same bytes.\n\n"
         "options:\n"
         "  --out DIR         where to write (created)\n"
         "  --seed N          override the scenario's seed\n"
         "  --data DIR        shared data (spectra/usgs; default $VIGIA_DATA)\n"
         "  -q, --quiet       no progress\n"
         "  -h, --help        this text\n");
}

static int parse_common(int argc, char **argv, const char *cmd, const char **out, const char **data,
                        const char **scen, long long *seed, int *quiet, int *every)
{
  static const struct option lo[] = {{"out", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 's'},
                                     {"data", required_argument, NULL, 'D'}, {"scenario", required_argument, NULL, 'S'},
                                     {"every", required_argument, NULL, 'e'}, {"quiet", no_argument, NULL, 'q'},
                                     {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
  int ch;
  optind = 1;
  while ((ch = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
    switch (ch) {
    case 'o': *out = optarg; break;
    case 's': {
      char *end;
      *seed = strtoll(optarg, &end, 10);
      if (*end || *seed < 0) {
        fprintf(stderr, "vigia %s: --seed wants a non-negative integer\n", cmd);
        return VG_EXIT_USAGE;
      }
      break;
    }
    case 'D': *data = optarg; break;
    case 'S': *scen = optarg; break;
    case 'e':
      if (!every || (*every = atoi(optarg)) < 1) {
        fprintf(stderr, "vigia %s: --every wants a positive count\n", cmd);
        return VG_EXIT_USAGE;
      }
      break;
    case 'q': *quiet = 1; break;
    case 'h': return -1;
    default: return VG_EXIT_USAGE;
    }
  }
  return VG_EXIT_CLEAN;
}

static int load_scenario(const char *cmd, const char *path, long long seed, vg_sim_scenario *sc)
{
  if (path) {
    if (vg_sim_scenario_read(path, sc) != VG_OK) {
      fprintf(stderr, "vigia %s: %s\n", cmd, vg_error_last());
      return VG_EXIT_FAILED;
    }
  } else
    vg_sim_scenario_default(sc);
  if (seed >= 0)
    sc->seed = (uint64_t)seed;
  return VG_EXIT_CLEAN;
}

int vg_cmd_simulate(int argc, char **argv)
{
  const char *out = NULL, *data = NULL, *scen = NULL;
  long long seed = -1;
  int quiet = 0, rc;
  vg_sim_scenario sc;
  prog p;
  rc = parse_common(argc, argv, "simulate", &out, &data, &scen, &seed, &quiet, NULL);
  if (rc < 0) {
    vg_cmd_simulate_help();
    return VG_EXIT_CLEAN;
  }
  if (rc != VG_EXIT_CLEAN) {
    vg_cmd_simulate_help();
    return rc;
  }
  if (optind < argc)
    scen = argv[optind++];
  if (!out || optind < argc) {
    fprintf(stderr, "vigia simulate: expected [SCENARIO.json] --out DIR\n");
    return VG_EXIT_USAGE;
  }
  if ((rc = load_scenario("simulate", scen, seed, &sc)) != VG_EXIT_CLEAN)
    return rc;
  prog_init(&p, quiet);
  if (vg_sim_run(&sc, data_dir(data), out, on_sim, &p) != VG_OK) {
    fprintf(stderr, "\nvigia simulate: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  printf("simulate: scenario '%s' seed %llu: %d passes over %.0f m x %.0f m, %d sites (%d new from pass %d), "
         "%d vehicles, %d roofs, %d rocks, %d warm rocks -> %s (%.1f s)\n",
         sc.name, (unsigned long long)sc.seed, sc.npasses, sc.size_m, sc.size_m, sc.sites, sc.sites_new,
         sc.new_from_pass, sc.vehicles, sc.roofs, sc.rocks, sc.warm_rocks, out, elapsed(&p));
  return VG_EXIT_CLEAN;
}

/* ---- demo ---------------------------------------------------------------------------------- */

void vg_cmd_demo_help(void)
{
  printf("usage: vigia demo [--out DIR] [options]\n\n"
         "The whole system on a simulated flight: simulates the default scenario (three\n"
         "passes over ten hidden sites and their look-alikes), runs exploit on every pass\n"
         "(video, spectral cube with the plastic library as targets, thermal raster) into\n"
         "DIR/register.db, writes the products released to each partner of the scenario's\n"
         "marking (DIR/products/CCC/), and scores the register against the\n"
         "truth: recall and precision of the confirmed sites, location error against the\n"
         "stated uncertainty, and where to look next.\n\n"
         "options:\n"
         "  --out DIR         where to work (default vigia-demo; its register is replaced)\n"
         "  --scenario FILE   another scenario (docs/formats/scenario.md)\n"
         "  --seed N          another seed of the scenario\n"
         "  --every N         video: exploit one frame in N (default: one a second)\n"
         "  --data DIR        shared data (spectra/usgs; default $VIGIA_DATA)\n"
         "  -q, --quiet       no progress\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 done, 1 failed\n");
}

typedef struct {
  prog *p;
  int pass;
} ex_ud;

static void on_exploit(void *ud, const char *in, const vg_exploit_stats *s, int done)
{
  ex_ud *e = ud;
  char what[64];
  const char *b = strrchr(in, '/');
  (void)s;
  snprintf(what, sizeof what, "pass %d: exploit %s", e->pass, b ? b + 1 : in);
  bar(e->p, what, done ? 1.0 : 0.5);
}

/*
 * The products for every partner the scenario's marking releases to (its REL TO but USA):
 * DIR/products/CCC/sites.{geojson,kml,cot,stix.json,html,kmz}, through the release decision. Prints a
 * line per partner.
 */
static int write_products(vg_register *reg, const vg_sim_scenario *sc, const char *out)
{
  static const struct {
    vg_product_format f;
    const char *ext;
  } k[] = {{VG_PRODUCT_GEOJSON, "geojson"}, {VG_PRODUCT_KML, "kml"},   {VG_PRODUCT_COT, "cot"},
           {VG_PRODUCT_STIX, "stix.json"},  {VG_PRODUCT_HTML, "html"}, {VG_PRODUCT_KMZ, "kmz"}};
  const double box[4] = {-90, 90, -180, 180};
  const char *r = sc->releasable;
  char dir[4200], path[4300];
  int rc = VG_OK;
  snprintf(dir, sizeof dir, "%s/products", out);
  mkdir(dir, 0777);
  while (*r && rc == VG_OK) {
    size_t n = strcspn(r, " "), ns = 0;
    vg_recipient rec;
    vg_product_site *s = NULL;
    memset(&rec, 0, sizeof rec);
    if (n == 3 && strncmp(r, "USA", 3)) {
      memcpy(rec.country, r, 3);
      rec.cleared = VG_CLASS_U;
      snprintf(dir, sizeof dir, "%s/products/%s", out, rec.country);
      mkdir(dir, 0777);
      if ((rc = vg_products_collect(reg, box, &rec, NULL, NULL, &s, &ns)) == VG_OK) {
        size_t kept = 0; /* the partner gets the confirmed sites */
        for (size_t i = 0; i < ns; i++)
          if (s[i].site.state == VG_SITE_CONFIRMED)
            s[kept++] = s[i];
        ns = kept;
        for (size_t q = 0; q < sizeof k / sizeof k[0] && rc == VG_OK; q++) {
          vg_buf b;
          vg_product_opts po = VG_PRODUCT_OPTS_INIT;
          FILE *f;
          vg_buf_init(&b, 1u << 30);
          po.title = sc->name;
          po.exercise = 1; /* simulated: CoT opex e- */
          snprintf(path, sizeof path, "%s/sites.%s", dir, k[q].ext);
          if ((rc = vg_product_write_reg(&b, k[q].f, reg, s, ns, &po)) == VG_OK) {
            f = fopen(path, "wb");
            if (!f || (b.len && fwrite(b.data, 1, b.len, f) != b.len))
              rc = vg_error_set(VG_E_IO, "cannot write %s", path);
            if (f && fclose(f) != 0 && rc == VG_OK)
              rc = vg_error_set(VG_E_IO, "cannot write %s", path);
          }
          vg_buf_free(&b);
        }
        printf("products for %s: %zu confirmed sites released (UNCLASSIFIED clearance) in %s/sites.{geojson,kml,cot,stix.json,html,kmz}\n",
               rec.country, ns, dir);
      }
      free(s);
    }
    r += n;
    while (*r == ' ')
      r++;
  }
  return rc;
}

static int cmp_p(const void *a, const void *b)
{
  const vg_score_row *x = a, *y = b;
  return x->p > y->p ? -1 : x->p < y->p ? 1 : (x->site_id > y->site_id) - (x->site_id < y->site_id);
}

static void report(vg_register *reg, const vg_truth_item *t, size_t nt, const vg_score *sc, const vg_score *any)
{
  printf("\nfound against the truth (confirmed sites; a find is within %.0f m):\n", 25.0);
  printf("  truth sites %zu, confirmed %zu, found %zu: recall %.2f, precision %.2f\n", sc->truth_sites, sc->scored,
         sc->found, sc->recall, sc->precision);
  printf("  false positives %zu (%zu on look-alikes)\n", sc->false_pos, sc->on_distractor);
  printf("  location error median %.1f m, p90 %.1f m, max %.1f m; stated CE50 median %.1f m (error/CE50 %.2f); "
         "within their CE90: %.0f%%\n",
         sc->err_median_m, sc->err_p90_m, sc->err_max_m, sc->ce50_median_m, sc->err_over_ce50, 100 * sc->within_ce90);
  printf("\n  %-6s %-10s %5s  %-14s %-14s %8s %8s\n", "site", "state", "p", "truth", "look-alike", "error m", "CE90 m");
  for (size_t i = 0; i < sc->nrows; i++) {
    const vg_score_row *r = &sc->rows[i];
    char sid[24];
    if (r->site_id)
      snprintf(sid, sizeof sid, "%lld", (long long)r->site_id);
    else
      snprintf(sid, sizeof sid, "-");
    printf("  %-6s %-10s %5.2f  %-14s %-14s %8.1f %8.1f\n", sid, r->site_id ? vg_site_state_name(r->state) : "MISSED",
           r->site_id ? r->p : 0.0, r->truth >= 0 ? t[r->truth].id : "-",
           r->distractor >= 0 ? t[r->distractor].id : "-", r->error_m, r->ce90_m);
  }
  /* where to look next: the strongest candidates not yet confirmed */
  {
    vg_score_row *c = malloc((any->nrows + 1) * sizeof *c);
    size_t nc = 0;
    for (size_t i = 0; c && i < any->nrows; i++)
      if (any->rows[i].site_id && any->rows[i].state == VG_SITE_CANDIDATE)
        c[nc++] = any->rows[i];
    if (c && nc) {
      qsort(c, nc, sizeof *c, cmp_p);
      printf("\nwhere to look next (the strongest unconfirmed candidates; a revisit would settle them):\n");
      for (size_t i = 0; i < nc && i < 5; i++) {
        vg_site s;
        if (vg_register_site(reg, c[i].site_id, &s) != VG_OK)
          continue;
        printf("  site %-5lld p %.2f at %.6f, %.6f (CE90 %.0f m), evidence:", (long long)s.id, c[i].p, s.lat, s.lon,
               vg_geo_ce90(s.cov_en));
        for (int k = 0; k < VG_EVID__COUNT; k++)
          if (s.kinds & (1u << k))
            printf(" %s", vg_evidence_name((vg_evidence)k));
        printf("%s\n", c[i].truth >= 0 ? "   [truth: a site]" : "");
      }
    }
    free(c);
  }
  (void)nt;
}

int vg_cmd_demo(int argc, char **argv)
{
  const char *out = "vigia-demo", *data = NULL, *scen = NULL;
  long long seed = -1;
  int quiet = 0, every = 0, rc, status = VG_EXIT_FAILED;
  vg_sim_scenario sc;
  vg_register *reg = NULL;
  vg_exploit *x = NULL;
  vg_truth_item *truth = NULL;
  size_t nt = 0;
  vg_score s1, s2;
  char path[4096], dem[4096], targets[4096], library[4096];
  prog p;
  memset(&s1, 0, sizeof s1);
  memset(&s2, 0, sizeof s2);
  rc = parse_common(argc, argv, "demo", &out, &data, &scen, &seed, &quiet, &every);
  if (rc < 0) {
    vg_cmd_demo_help();
    return VG_EXIT_CLEAN;
  }
  if (rc != VG_EXIT_CLEAN || optind < argc) {
    vg_cmd_demo_help();
    return VG_EXIT_USAGE;
  }
  if ((rc = load_scenario("demo", scen, seed, &sc)) != VG_EXIT_CLEAN)
    return rc;
  prog_init(&p, quiet);
  if (!quiet)
    fprintf(stderr, "vigia demo: scenario '%s' seed %llu into %s\n", sc.name, (unsigned long long)sc.seed, out);
  if (vg_sim_run(&sc, data_dir(data), out, on_sim, &p) != VG_OK) {
    fprintf(stderr, "\nvigia demo: %s\n", vg_error_last());
    return VG_EXIT_FAILED;
  }
  snprintf(path, sizeof path, "%s/register.db", out);
  for (const char *sfx = ""; sfx; sfx = !*sfx ? "-wal" : !strcmp(sfx, "-wal") ? "-shm" : NULL) {
    char f[4200];
    snprintf(f, sizeof f, "%s%s", path, sfx);
    unlink(f);
  }
  snprintf(dem, sizeof dem, "%s/dem.tif", out);
  snprintf(targets, sizeof targets, "%s/spectra/usgs/plastic", data_dir(data));
  snprintf(library, sizeof library, "%s/spectra/index.csv", data_dir(data));
  {
    vg_exploit_opts eo;
    vg_exploit_opts_default(&eo);
    eo.every = every ? every : sc.fps;
    eo.dem_path = dem;
    eo.targets = targets;
    eo.confusers = library;
    if (vg_register_open(&reg, path) != VG_OK || vg_exploit_new(&x, reg, &eo) != VG_OK) {
      fprintf(stderr, "vigia demo: %s\n", vg_error_last());
      goto done;
    }
  }
  for (int k = 1; k <= sc.npasses; k++) {
    /* the rasters first: within a pass, the first detection of a kind gives the site's
     * position from that pass (lib/sites/fuse.c), and the rasters' are the better ones */
    static const char *const prod[] = {"cube.tif", "thermal.tif", "video.ts"};
    char flight[32];
    ex_ud eu = {&p, k};
    snprintf(flight, sizeof flight, "pass%d", k);
    if (!quiet)
      vg_exploit_set_progress(x, on_exploit, &eu);
    for (int q = 0; q < 3; q++) {
      snprintf(path, sizeof path, "%s/pass%d/%s", out, k, prod[q]);
      if (vg_exploit_run(x, path, flight) != VG_OK) {
        fprintf(stderr, "\nvigia demo: %s: %s\n", path, vg_error_last());
        goto done;
      }
    }
  }
  {
    const vg_exploit_stats *st = vg_exploit_stats_get(x);
    printf("exploit: %d passes, %zu frames (%zu used), detections: %zu anomaly, %zu spectral, %zu thermal; "
           "sites %zu new, %zu updates, %zu misses\n",
           sc.npasses, st->frames, st->used, st->by_kind[VG_EVID_ANOMALY], st->by_kind[VG_EVID_SPECTRAL],
           st->by_kind[VG_EVID_THERMAL], st->ingest.sites_new, st->ingest.sites_updated, st->ingest.misses);
  }
  snprintf(path, sizeof path, "%s/truth.geojson", out);
  if (vg_truth_read(path, &truth, &nt) != VG_OK) {
    fprintf(stderr, "vigia demo: %s\n", vg_error_last());
    goto done;
  }
  {
    vg_score_opts so = VG_SCORE_OPTS_INIT, sa = VG_SCORE_OPTS_INIT;
    sa.any_state = 1;
    if (vg_score_register(reg, truth, nt, &so, &s1) != VG_OK || vg_score_register(reg, truth, nt, &sa, &s2) != VG_OK) {
      fprintf(stderr, "vigia demo: %s\n", vg_error_last());
      goto done;
    }
  }
  report(reg, truth, nt, &s1, &s2);
  printf("\n");
  if (write_products(reg, &sc, out) != VG_OK) {
    fprintf(stderr, "vigia demo: %s\n", vg_error_last());
    goto done;
  }
  printf("\nfiles: %s/products/ (per partner), %s/register.db (vigia sites --db ...), %s/truth.geojson, "
         "%s/passN/ (video.ts, cube.tif, thermal.tif); %.1f s\n",
         out, out, out, out, elapsed(&p));
  status = VG_EXIT_CLEAN;
done:
  vg_score_free(&s1);
  vg_score_free(&s2);
  free(truth);
  vg_exploit_free(x);
  vg_register_close(reg);
  return status;
}
