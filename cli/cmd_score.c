/*
 * vigia score: a site register against a simulation's truth (lib/sim/score.c).
 *
 *   vigia score --truth truth.geojson --db REGISTER [--tolerance M] [--any-state] [--margin M] [--json]
 *
 * A summary (recall, precision, false positives and how many lie on
 * distractors, the location error and how it compares with the stated
 * uncertainty) and one row per scored site, then per missed truth site.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "vigia/sim.h"

void vg_cmd_score_help(void)
{
  vg_score_opts d = VG_SCORE_OPTS_INIT;
  printf("usage: vigia score --truth TRUTH.geojson --db REGISTER [--tolerance M] [--any-state] [--margin M]\n"
         "                   [--json]\n"
         "\n"
         "Scores the register's sites against a simulation's truth (a GeoJSON FeatureCollection of\n"
         "Points with properties id, role \"site\" or \"distractor\", type and optionally pass).\n"
         "\n"
         "options:\n"
         "  --truth FILE     the truth (required)\n"
         "  --db REGISTER    an existing SQLite register file or a postgresql:// URI (required)\n"
         "  --tolerance M    a site within M metres of a truth site finds it (default %g)\n"
         "  --any-state      score candidates as well as confirmed sites (never dismissed or inactive)\n"
         "  --margin M       sites farther than M metres from every truth item are outside the scene\n"
         "                   and not scored (default %g)\n"
         "  --json           one JSON object: the numbers and the rows\n"
         "\n"
         "Matching is one-to-one, nearest pairs first (ties: lower site id, then truth order).\n"
         "recall = found / truth sites, precision = found / scored; a false positive within the\n"
         "tolerance of a distractor is counted as on a distractor. Errors are horizontal distances on\n"
         "the local tangent plane at the truth item; median and p90 interpolate linearly between ranks.\n"
         "CE50/CE90 are stated by each site's covariance; \"within CE90\" is the share of found sites\n"
         "whose error is at most their CE90 (about 0.9 when the stated uncertainty is honest).\n",
         d.tolerance_m, d.margin_m);
}

/* @p where: the register, or NULL when the library's message already names the file. */
static int fail(const char *what, const char *where, int rc)
{
  fprintf(stderr, "vigia score: %s%s%s%s: %s (%s)\n", what, where ? " '" : "", where ? where : "", where ? "'" : "",
          vg_error_last(), vg_err_name(rc));
  return VG_EXIT_FAILED;
}

static int usage_err(const char *msg)
{
  fprintf(stderr, "vigia score: %s (see `vigia help score`)\n", msg);
  return VG_EXIT_USAGE;
}

static int parse_metres(const char *s, double *v)
{
  char *e;
  *v = strtod(s, &e);
  return e != s && !*e && isfinite(*v) && *v >= 0;
}

/* A number with @p prec decimals, or "-" when it is not one. */
static const char *num(char *buf, size_t cap, double v, int prec)
{
  if (isfinite(v))
    snprintf(buf, cap, "%.*f", prec, v);
  else
    snprintf(buf, cap, "-");
  return buf;
}

static void print_text(const vg_score *s, const vg_truth_item *t, size_t n, const vg_score_opts *o,
                       const char *truth_path, const char *db)
{
  char b[6][32];
  size_t ndis = n - s->truth_sites;
  printf("truth       %s: %zu sites, %zu distractors\n", truth_path, s->truth_sites, ndis);
  printf("register    %s\n", db);
  printf("scored      %zu sites (%s, within %g m of the truth)\n", s->scored,
         o->any_state ? "candidate or confirmed" : "confirmed", o->margin_m);
  printf("found       %zu of %zu within %g m: recall %s, precision %s\n", s->found, s->truth_sites, o->tolerance_m,
         num(b[0], sizeof b[0], s->recall, 3), num(b[1], sizeof b[1], s->precision, 3));
  printf("false pos   %zu, %zu on distractors\n", s->false_pos, s->on_distractor);
  printf("error       median %s m, p90 %s m, max %s m\n", num(b[0], sizeof b[0], s->err_median_m, 2),
         num(b[1], sizeof b[1], s->err_p90_m, 2), num(b[2], sizeof b[2], s->err_max_m, 2));
  printf("stated      median CE50 %s m, error / CE50 %s, within CE90 %s\n",
         num(b[0], sizeof b[0], s->ce50_median_m, 2), num(b[1], sizeof b[1], s->err_over_ce50, 2),
         num(b[2], sizeof b[2], s->within_ce90, 2));
  if (!s->nrows)
    return;
  printf("\n%8s  %-9s  %5s  %-16s  %-12s  %-16s  %-12s  %8s  %7s  %7s\n", "site", "state", "p", "truth", "type",
         "distractor", "type", "error_m", "ce50_m", "ce90_m");
  for (size_t i = 0; i < s->nrows; i++) {
    const vg_score_row *r = &s->rows[i];
    const vg_truth_item *tt = r->truth >= 0 ? &t[r->truth] : NULL;
    const vg_truth_item *dd = r->distractor >= 0 ? &t[r->distractor] : NULL;
    if (r->site_id)
      snprintf(b[0], sizeof b[0], "%lld", (long long)r->site_id);
    else
      snprintf(b[0], sizeof b[0], "-");
    printf("%8s  %-9s  %5s  %-16s  %-12s  %-16s  %-12s  %8s  %7s  %7s\n", b[0],
           r->site_id ? vg_site_state_name(r->state) : "missed", num(b[1], sizeof b[1], r->p, 3),
           tt ? tt->id : "-", tt ? tt->type : "-", dd ? dd->id : "-", dd ? dd->type : "-",
           num(b[2], sizeof b[2], r->error_m, 2), num(b[3], sizeof b[3], r->ce50_m, 2),
           num(b[4], sizeof b[4], r->ce90_m, 2));
  }
}

static int print_json(const vg_score *s, const vg_truth_item *t, size_t n, const vg_score_opts *o,
                      const char *truth_path, const char *db)
{
  vg_buf b;
  vg_jw w;
  int rc;
  vg_buf_init(&b, (size_t)1 << 30);
  vg_jw_init(&w, &b, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "truth");
  vg_jw_str(&w, truth_path);
  vg_jw_key(&w, "register");
  vg_jw_str(&w, db);
  vg_jw_key(&w, "tolerance_m");
  vg_jw_real(&w, o->tolerance_m);
  vg_jw_key(&w, "margin_m");
  vg_jw_real(&w, o->margin_m);
  vg_jw_key(&w, "any_state");
  vg_jw_bool(&w, o->any_state);
  vg_jw_key(&w, "truth_sites");
  vg_jw_uint(&w, s->truth_sites);
  vg_jw_key(&w, "distractors");
  vg_jw_uint(&w, n - s->truth_sites);
  vg_jw_key(&w, "scored");
  vg_jw_uint(&w, s->scored);
  vg_jw_key(&w, "found");
  vg_jw_uint(&w, s->found);
  vg_jw_key(&w, "false_pos");
  vg_jw_uint(&w, s->false_pos);
  vg_jw_key(&w, "on_distractor");
  vg_jw_uint(&w, s->on_distractor);
  vg_jw_key(&w, "recall");
  vg_jw_real(&w, s->recall);
  vg_jw_key(&w, "precision");
  vg_jw_real(&w, s->precision);
  vg_jw_key(&w, "err_median_m");
  vg_jw_real(&w, s->err_median_m);
  vg_jw_key(&w, "err_p90_m");
  vg_jw_real(&w, s->err_p90_m);
  vg_jw_key(&w, "err_max_m");
  vg_jw_real(&w, s->err_max_m);
  vg_jw_key(&w, "ce50_median_m");
  vg_jw_real(&w, s->ce50_median_m);
  vg_jw_key(&w, "err_over_ce50");
  vg_jw_real(&w, s->err_over_ce50);
  vg_jw_key(&w, "within_ce90");
  vg_jw_real(&w, s->within_ce90);
  vg_jw_key(&w, "rows");
  vg_jw_arr_begin(&w);
  for (size_t i = 0; i < s->nrows; i++) {
    const vg_score_row *r = &s->rows[i];
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "site_id");
    if (r->site_id)
      vg_jw_int(&w, r->site_id);
    else
      vg_jw_null(&w);
    vg_jw_key(&w, "state");
    if (r->site_id)
      vg_jw_str(&w, vg_site_state_name(r->state));
    else
      vg_jw_null(&w);
    vg_jw_key(&w, "p");
    vg_jw_real(&w, r->p);
    vg_jw_key(&w, "truth");
    if (r->truth >= 0) {
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "index");
      vg_jw_int(&w, r->truth);
      vg_jw_key(&w, "id");
      vg_jw_str(&w, t[r->truth].id);
      vg_jw_key(&w, "type");
      vg_jw_str(&w, t[r->truth].type);
      vg_jw_obj_end(&w);
    } else {
      vg_jw_null(&w);
    }
    vg_jw_key(&w, "distractor");
    if (r->distractor >= 0) {
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "index");
      vg_jw_int(&w, r->distractor);
      vg_jw_key(&w, "id");
      vg_jw_str(&w, t[r->distractor].id);
      vg_jw_key(&w, "type");
      vg_jw_str(&w, t[r->distractor].type);
      vg_jw_key(&w, "pass");
      vg_jw_int(&w, t[r->distractor].pass);
      vg_jw_obj_end(&w);
    } else {
      vg_jw_null(&w);
    }
    vg_jw_key(&w, "error_m");
    vg_jw_real(&w, r->error_m);
    vg_jw_key(&w, "ce50_m");
    vg_jw_real(&w, r->ce50_m);
    vg_jw_key(&w, "ce90_m");
    vg_jw_real(&w, r->ce90_m);
    vg_jw_obj_end(&w);
  }
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  rc = vg_jw_finish(&w);
  if (rc == VG_OK) {
    fwrite(b.data, 1, b.len, stdout);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "vigia score: JSON output: %s\n", vg_strerror(rc));
  }
  vg_buf_free(&b);
  return rc == VG_OK ? VG_EXIT_CLEAN : VG_EXIT_FAILED;
}

static int is_pg(const char *uri)
{
  return !strncmp(uri, "postgresql://", 13) || !strncmp(uri, "postgres://", 11);
}

/* The register as shown: a URI without its user and password. */
static void shown(const char *db, char *out, size_t cap)
{
  const char *at, *rest;
  if (!is_pg(db)) {
    snprintf(out, cap, "%s", db);
    return;
  }
  rest = strstr(db, "://") + 3;
  at = strchr(rest, '@');
  if (at && (!strchr(rest, '/') || at < strchr(rest, '/')))
    snprintf(out, cap, "%.*s%s", (int)(rest - db), db, at + 1);
  else
    snprintf(out, cap, "%s", db);
}

int vg_cmd_score(int argc, char **argv)
{
  const char *truth_path = NULL, *db = NULL;
  vg_score_opts o = VG_SCORE_OPTS_INIT;
  int json = 0, rc, ret = VG_EXIT_FAILED;
  vg_register *r = NULL;
  vg_truth_item *t = NULL;
  size_t n = 0;
  vg_score s;
  struct stat st;
  char where[1024];

  memset(&s, 0, sizeof s);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      vg_cmd_score_help();
      return VG_EXIT_CLEAN;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--any-state")) {
      o.any_state = 1;
    } else if (!strcmp(a, "--truth") || !strcmp(a, "--db") || !strcmp(a, "--tolerance") ||
               !strcmp(a, "--margin")) {
      if (i + 1 >= argc)
        return usage_err("an option needs a value");
      if (!strcmp(a, "--truth")) {
        truth_path = argv[++i];
      } else if (!strcmp(a, "--db")) {
        db = argv[++i];
      } else if (!strcmp(a, "--tolerance")) {
        if (!parse_metres(argv[++i], &o.tolerance_m))
          return usage_err("--tolerance takes metres (a number >= 0)");
      } else if (!parse_metres(argv[++i], &o.margin_m)) {
        return usage_err("--margin takes metres (a number >= 0)");
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "vigia score: unknown option '%s'\n", a);
      return VG_EXIT_USAGE;
    } else {
      fprintf(stderr, "vigia score: unexpected argument '%s' (see `vigia help score`)\n", a);
      return VG_EXIT_USAGE;
    }
  }
  if (!truth_path)
    return usage_err("--truth TRUTH.geojson is required");
  if (!db || !*db)
    return usage_err("--db REGISTER is required");

  shown(db, where, sizeof where);
  if ((rc = vg_truth_read(truth_path, &t, &n)) != VG_OK)
    return fail("reading the truth", NULL, rc);
  /* opening an SQLite path creates a register: a mistyped path would score an empty one */
  if (!is_pg(db) && stat(db, &st) != 0) {
    fprintf(stderr, "vigia score: no register at '%s'\n", db);
    goto done;
  }
  if ((rc = vg_register_open(&r, db)) != VG_OK) {
    ret = fail("opening the register", where, rc);
    goto done;
  }
  if ((rc = vg_score_register(r, t, n, &o, &s)) != VG_OK) {
    ret = fail("scoring the register", where, rc);
    goto done;
  }
  if (json) {
    ret = print_json(&s, t, n, &o, truth_path, where);
  } else {
    print_text(&s, t, n, &o, truth_path, where);
    ret = VG_EXIT_CLEAN;
  }
done:
  vg_score_free(&s);
  vg_register_close(r);
  free(t);
  return ret;
}
