/*
 * vigia sites: read and decide on the site register (lib/sites).
 *
 *   vigia sites --db REGISTER list [--box LAT0,LON0,LAT1,LON1] [--max N]
 *   vigia sites --db REGISTER show ID
 *   vigia sites --db REGISTER near LAT LON RADIUS_M [--max N]
 *   vigia sites --db REGISTER history ID
 *   vigia sites --db REGISTER confirm|dismiss ID [--note TEXT]
 *   vigia sites --db REGISTER note ID TEXT
 *   ... [--json]
 *
 * Options may come anywhere; an argument that is not an option is a word of
 * the subcommand, so negative coordinates ("near -33.9 18.4 500") need no "--".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "vigia/sites.h"

/* Sites `list` shows when no --max is given (the register may hold millions). */
#define SITES_LIST_DEFAULT_MAX 1000
/* Words of a subcommand after its name (near LAT LON RADIUS). */
#define SITES_MAX_WORDS 4

void vg_cmd_sites_help(void)
{
  printf("usage: vigia sites --db REGISTER <action> [--json] [--max N] [--box LAT0,LON0,LAT1,LON1]\n"
         "\n"
         "actions:\n"
         "  list                     sites in the box (default: everywhere), by id; at most --max\n"
         "                           (default %d)\n"
         "  show ID                  one site\n"
         "  near LAT LON RADIUS_M    sites within RADIUS_M metres, nearest first\n"
         "  history ID               the observations fused into a site, oldest first\n"
         "  confirm ID [--note TEXT] an analyst confirms a site\n"
         "  dismiss ID [--note TEXT] an analyst dismisses a site (it stays dismissed)\n"
         "  note ID TEXT             replaces a site's note\n"
         "\n"
         "REGISTER is an SQLite file (created when absent) or a postgresql:// URI.\n"
         "The table shows sigma_m, the standard deviation along the major axis of the position\n"
         "covariance, and p = 1 / (1 + exp(-logodds)). --json writes the full records.\n",
         SITES_LIST_DEFAULT_MAX);
}

/* "2024-05-01T12:34:56Z" (UTC, seconds). */
static void iso8601(int64_t us, char out[32])
{
  time_t t = (time_t)(us / 1000000 - (us % 1000000 < 0));
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(out, 32, "?");
}

/* Standard deviation (m) along the major axis of a 2x2 covariance. */
static double sigma_major(const double c[4])
{
  double a = c[0], b = 0.5 * (c[1] + c[2]), d = c[3];
  double l = 0.5 * (a + d) + sqrt(0.25 * (a - d) * (a - d) + b * b);
  return sqrt(l > 0 ? l : 0);
}

static void kinds_str(uint32_t k, char *out, size_t cap)
{
  size_t n = 0;
  out[0] = 0;
  for (int i = 0; i < VG_EVID__COUNT; i++)
    if (k & (1u << i))
      n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "," : "", vg_evidence_name((vg_evidence)i));
  if (!n)
    snprintf(out, cap, "-");
}

static void table_head(void)
{
  printf("%8s  %-9s  %11s  %12s  %8s  %5s  %5s  %5s  %-30s  %s\n", "id", "state", "lat", "lon", "sigma_m", "p",
         "nobs", "nmiss", "kinds", "last");
}

static void table_row(const vg_site *s)
{
  char k[64], t[32];
  kinds_str(s->kinds, k, sizeof k);
  iso8601(s->last_us, t);
  printf("%8lld  %-9s  %11.6f  %12.6f  %8.1f  %5.3f  %5lld  %5lld  %-30s  %s\n", (long long)s->id,
         vg_site_state_name(s->state), s->lat, s->lon, sigma_major(s->cov_en), vg_fuse_prob(s->logodds),
         (long long)s->nobs, (long long)s->nmiss, k, t);
}

static void jw_site(vg_jw *w, const vg_site *s)
{
  char t[32];
  vg_jw_obj_begin(w);
  vg_jw_key(w, "id");
  vg_jw_int(w, s->id);
  vg_jw_key(w, "state");
  vg_jw_str(w, vg_site_state_name(s->state));
  vg_jw_key(w, "lat");
  vg_jw_real(w, s->lat);
  vg_jw_key(w, "lon");
  vg_jw_real(w, s->lon);
  vg_jw_key(w, "hae");
  vg_jw_real(w, s->hae);
  vg_jw_key(w, "cov_en");
  vg_jw_arr_begin(w);
  for (int i = 0; i < 4; i++)
    vg_jw_real(w, s->cov_en[i]);
  vg_jw_arr_end(w);
  vg_jw_key(w, "sigma_m");
  vg_jw_real(w, sigma_major(s->cov_en));
  vg_jw_key(w, "sigma_up");
  vg_jw_real(w, s->sigma_up);
  vg_jw_key(w, "logodds");
  vg_jw_real(w, s->logodds);
  vg_jw_key(w, "p");
  vg_jw_real(w, vg_fuse_prob(s->logodds));
  vg_jw_key(w, "first_us");
  vg_jw_int(w, s->first_us);
  vg_jw_key(w, "last_us");
  vg_jw_int(w, s->last_us);
  iso8601(s->first_us, t);
  vg_jw_key(w, "first");
  vg_jw_str(w, t);
  iso8601(s->last_us, t);
  vg_jw_key(w, "last");
  vg_jw_str(w, t);
  vg_jw_key(w, "nobs");
  vg_jw_int(w, s->nobs);
  vg_jw_key(w, "nmiss");
  vg_jw_int(w, s->nmiss);
  vg_jw_key(w, "kinds");
  vg_jw_arr_begin(w);
  for (int i = 0; i < VG_EVID__COUNT; i++)
    if (s->kinds & (1u << i))
      vg_jw_str(w, vg_evidence_name((vg_evidence)i));
  vg_jw_arr_end(w);
  vg_jw_key(w, "note");
  vg_jw_str(w, s->note);
  vg_jw_obj_end(w);
}

static void jw_obs(vg_jw *w, const vg_obs *o)
{
  char t[32];
  vg_jw_obj_begin(w);
  vg_jw_key(w, "flight");
  vg_jw_str(w, o->flight);
  vg_jw_key(w, "frame");
  vg_jw_int(w, o->frame);
  vg_jw_key(w, "detector");
  vg_jw_str(w, o->detector);
  vg_jw_key(w, "seq");
  vg_jw_int(w, o->seq);
  vg_jw_key(w, "kind");
  vg_jw_str(w, vg_evidence_name(o->kind));
  vg_jw_key(w, "time_us");
  vg_jw_int(w, o->time_us);
  iso8601(o->time_us, t);
  vg_jw_key(w, "time");
  vg_jw_str(w, t);
  vg_jw_key(w, "lat");
  vg_jw_real(w, o->lat);
  vg_jw_key(w, "lon");
  vg_jw_real(w, o->lon);
  vg_jw_key(w, "hae");
  vg_jw_real(w, o->hae);
  vg_jw_key(w, "cov_en");
  vg_jw_arr_begin(w);
  for (int i = 0; i < 4; i++)
    vg_jw_real(w, o->cov_en[i]);
  vg_jw_arr_end(w);
  vg_jw_key(w, "sigma_up");
  vg_jw_real(w, o->sigma_up);
  vg_jw_key(w, "score");
  vg_jw_real(w, o->score);
  vg_jw_key(w, "box");
  vg_jw_arr_begin(w);
  vg_jw_int(w, o->r0);
  vg_jw_int(w, o->c0);
  vg_jw_int(w, o->r1);
  vg_jw_int(w, o->c1);
  vg_jw_arr_end(w);
  vg_jw_obj_end(w);
}

/* Writes and frees a finished JSON document. */
static int jw_flush(vg_jw *w, vg_buf *b)
{
  int rc = vg_jw_finish(w);
  if (rc == VG_OK) {
    fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "vigia sites: JSON output: %s\n", vg_strerror(rc));
  }
  vg_buf_free(b);
  return rc == VG_OK ? VG_EXIT_CLEAN : VG_EXIT_FAILED;
}

static int print_sites(const vg_site *s, size_t n, int json)
{
  if (json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, (size_t)1 << 30);
    vg_jw_init(&w, &b, 0);
    vg_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
      jw_site(&w, &s[i]);
    vg_jw_arr_end(&w);
    return jw_flush(&w, &b);
  }
  table_head();
  for (size_t i = 0; i < n; i++)
    table_row(&s[i]);
  return VG_EXIT_CLEAN;
}

static int print_site(const vg_site *s, int json)
{
  char k[64], t0[32], t1[32];
  if (json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, 1 << 16);
    vg_jw_init(&w, &b, 0);
    jw_site(&w, s);
    return jw_flush(&w, &b);
  }
  kinds_str(s->kinds, k, sizeof k);
  iso8601(s->first_us, t0);
  iso8601(s->last_us, t1);
  printf("site %lld  %s\n  position  %.7f, %.7f  hae %.1f m (sigma %.1f m)\n"
         "  cov_en    [%.2f %.2f; %.2f %.2f] m^2  (sigma %.1f m along the major axis)\n"
         "  evidence  p %.3f (log-odds %.2f), %lld observations, %lld misses, kinds %s\n"
         "  seen      %s .. %s\n  note      %s\n",
         (long long)s->id, vg_site_state_name(s->state), s->lat, s->lon, s->hae, s->sigma_up, s->cov_en[0],
         s->cov_en[1], s->cov_en[2], s->cov_en[3], sigma_major(s->cov_en), vg_fuse_prob(s->logodds), s->logodds,
         (long long)s->nobs, (long long)s->nmiss, k, t0, t1, s->note[0] ? s->note : "-");
  return VG_EXIT_CLEAN;
}

static int parse_num(const char *s, double *v)
{
  char *e;
  *v = strtod(s, &e);
  return e != s && !*e && isfinite(*v);
}

static int parse_id(const char *s, int64_t *id)
{
  char *e;
  long long v = strtoll(s, &e, 10);
  if (e == s || *e || v <= 0)
    return 0;
  *id = v;
  return 1;
}

static int fail(const char *what, int rc)
{
  fprintf(stderr, "vigia sites: %s: %s (%s)\n", what, vg_error_last(), vg_err_name(rc));
  return VG_EXIT_FAILED;
}

static int usage_err(const char *msg)
{
  fprintf(stderr, "vigia sites: %s (see `vigia help sites`)\n", msg);
  return VG_EXIT_USAGE;
}

int vg_cmd_sites(int argc, char **argv)
{
  const char *db = NULL, *note = NULL, *words[SITES_MAX_WORDS + 1] = {0};
  double box[4] = {-90, -360, 90, 360}, v[3];
  int json = 0, nw = 0, have_note = 0, rc, ret = VG_EXIT_FAILED;
  long max = -1;
  int64_t id = 0;
  vg_register *r = NULL;
  vg_site *s = NULL, one;
  vg_obs *h = NULL;
  size_t n = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      vg_cmd_sites_help();
      return VG_EXIT_CLEAN;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (!strcmp(a, "--db") || !strcmp(a, "--max") || !strcmp(a, "--box") || !strcmp(a, "--note")) {
      if (i + 1 >= argc)
        return usage_err("an option needs a value");
      if (!strcmp(a, "--db")) {
        db = argv[++i];
      } else if (!strcmp(a, "--note")) {
        note = argv[++i];
        have_note = 1;
      } else if (!strcmp(a, "--max")) {
        char *e;
        max = strtol(argv[++i], &e, 10);
        if (*e || e == argv[i] || max < 0)
          return usage_err("--max takes a count (0: no limit)");
      } else {
        char tail;
        if (sscanf(argv[++i], "%lf,%lf,%lf,%lf%c", &box[0], &box[1], &box[2], &box[3], &tail) != 4 ||
            !isfinite(box[0] + box[1] + box[2] + box[3]))
          return usage_err("--box takes LAT0,LON0,LAT1,LON1 (degrees)");
        if (box[0] > box[2]) {
          double t = box[0];
          box[0] = box[2];
          box[2] = t;
        }
        if (box[1] > box[3]) {
          double t = box[1];
          box[1] = box[3];
          box[3] = t;
        }
      }
    } else if (a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "vigia sites: unknown option '%s'\n", a);
      return VG_EXIT_USAGE;
    } else {
      if (nw > SITES_MAX_WORDS)
        return usage_err("too many arguments");
      words[nw++] = a;
    }
  }
  if (!db)
    return usage_err("--db REGISTER is required");
  if (!nw)
    return usage_err("no action (list, show, near, history, confirm, dismiss, note)");

#define WANT(k, what)                                                                                      \
  do {                                                                                                     \
    if (nw != (k) + 1)                                                                                     \
      return usage_err(what);                                                                              \
  } while (0)
  if (!strcmp(words[0], "list")) {
    WANT(0, "list takes no argument (filter with --box)");
  } else if (!strcmp(words[0], "near")) {
    WANT(3, "near takes LAT LON RADIUS_M");
    for (int i = 0; i < 3; i++)
      if (!parse_num(words[1 + i], &v[i]))
        return usage_err("near takes LAT LON RADIUS_M (numbers)");
  } else if (!strcmp(words[0], "note")) {
    WANT(2, "note takes ID TEXT");
    if (!parse_id(words[1], &id))
      return usage_err("a site id is a positive integer");
  } else if (!strcmp(words[0], "show") || !strcmp(words[0], "history") || !strcmp(words[0], "confirm") ||
             !strcmp(words[0], "dismiss")) {
    WANT(1, "this action takes one site ID");
    if (!parse_id(words[1], &id))
      return usage_err("a site id is a positive integer");
  } else {
    fprintf(stderr, "vigia sites: unknown action '%s' (list, show, near, history, confirm, dismiss, note)\n",
            words[0]);
    return VG_EXIT_USAGE;
  }
#undef WANT
  if (have_note && strcmp(words[0], "confirm") && strcmp(words[0], "dismiss"))
    return usage_err("--note goes with confirm or dismiss (or use: note ID TEXT)");

  if ((rc = vg_register_open(&r, db)) != VG_OK)
    return fail("opening the register", rc);

  if (!strcmp(words[0], "list")) {
    size_t lim = max < 0 ? SITES_LIST_DEFAULT_MAX : (size_t)max;
    /* one more than asked tells whether there are more */
    if ((rc = vg_register_box(r, box[0], box[2], box[1], box[3], lim ? lim + 1 : 0, &s, &n)) != VG_OK) {
      ret = fail("listing sites", rc);
      goto done;
    }
    if (lim && n > lim) {
      n = lim;
      fprintf(stderr, "vigia sites: more than %zu sites; showing the first %zu by id (--max, --box)\n", lim, lim);
    }
    ret = print_sites(s, n, json);
  } else if (!strcmp(words[0], "near")) {
    if ((rc = vg_register_near(r, v[0], v[1], v[2], max < 0 ? 0 : (size_t)max, &s, &n)) != VG_OK) {
      ret = fail("sites near a point", rc);
      goto done;
    }
    ret = print_sites(s, n, json);
  } else if (!strcmp(words[0], "show")) {
    if ((rc = vg_register_site(r, id, &one)) != VG_OK) {
      ret = fail("reading the site", rc);
      goto done;
    }
    ret = print_site(&one, json);
  } else if (!strcmp(words[0], "history")) {
    if ((rc = vg_register_site(r, id, &one)) != VG_OK || (rc = vg_register_history(r, id, &h, &n)) != VG_OK) {
      ret = fail("reading the site's history", rc);
      goto done;
    }
    if (json) {
      vg_buf b;
      vg_jw w;
      vg_buf_init(&b, (size_t)1 << 30);
      vg_jw_init(&w, &b, 0);
      vg_jw_arr_begin(&w);
      for (size_t i = 0; i < n; i++)
        jw_obs(&w, &h[i]);
      vg_jw_arr_end(&w);
      ret = jw_flush(&w, &b);
    } else {
      printf("%-20s  %-16s  %8s  %-12s  %4s  %-8s  %11s  %12s  %8s  %8s\n", "time", "flight", "frame", "detector",
             "seq", "kind", "lat", "lon", "sigma_m", "score");
      for (size_t i = 0; i < n; i++) {
        char t[32];
        iso8601(h[i].time_us, t);
        printf("%-20s  %-16s  %8lld  %-12s  %4d  %-8s  %11.6f  %12.6f  %8.1f  %8.3g\n", t, h[i].flight,
               (long long)h[i].frame, h[i].detector, h[i].seq, vg_evidence_name(h[i].kind), h[i].lat, h[i].lon,
               sigma_major(h[i].cov_en), h[i].score);
      }
      ret = VG_EXIT_CLEAN;
    }
  } else {
    if (!strcmp(words[0], "note"))
      rc = vg_register_note(r, id, words[2]);
    else
      rc = vg_register_set_state(r, id, !strcmp(words[0], "confirm") ? VG_SITE_CONFIRMED : VG_SITE_DISMISSED, note);
    if (rc != VG_OK) {
      ret = fail("updating the site", rc);
      goto done;
    }
    if ((rc = vg_register_site(r, id, &one)) != VG_OK) {
      ret = fail("reading the site back", rc);
      goto done;
    }
    ret = print_site(&one, json);
  }
done:
  free(s);
  free(h);
  vg_register_close(r);
  return ret;
}
