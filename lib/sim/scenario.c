/*
 * Scenario files (docs/formats/scenario.md): one JSON object whose members
 * are the fields of vg_sim_scenario, every one optional (the default's value
 * stands), unknown members refused so that a misspelt member never silently
 * becomes a default.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vigia/sim.h"

void vg_sim_scenario_default(vg_sim_scenario *s)
{
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "default");
  s->seed = 7;
  /* scrubland hills of the Sierra Madre del Sur (Guerrero) */
  s->lat0 = 17.85;
  s->lon0 = -99.95;
  s->start_us = 1780272000LL * 1000000LL; /* 2026-06-01 00:00 UTC */
  s->size_m = 1200;
  s->gsd_m = 2.0;
  s->base_msl_m = 950;
  s->relief_m = 120;
  s->bands = 40;
  s->snr = 150;
  s->netd_k = 0.08;
  s->georeg_m = 4.0;
  s->sites = 10;
  s->sites_new = 2;
  s->new_from_pass = 2;
  s->canopy_min = 0.15;
  s->canopy_max = 0.5;
  s->warm_min_k = 3.0;
  s->warm_max_k = 6.0;
  s->vehicles = 4;
  s->roofs = 4;
  s->rocks = 4;
  s->warm_rocks = 3;
  s->alt_agl_m = 700;
  s->speed_mps = 35;
  s->depression_deg = 55;
  s->hfov_deg = 40;
  s->width = 384;
  s->height = 216;
  s->fps = 5;
  s->leg_sep_m = 600;
  s->pos_noise_m = 1.5;
  s->att_noise_deg = 0.03;
  snprintf(s->classification, sizeof s->classification, "UNCLASSIFIED");
  snprintf(s->releasable, sizeof s->releasable, "USA MEX");
  s->npasses = 3;
  /* morning, noon two days later (new sites), late afternoon of the fifth day */
  s->pass[0] = (vg_sim_pass){0, 9.5, 90, {0.10, -0.05, 0}, 0.08};
  s->pass[1] = (vg_sim_pass){2, 12.5, 270, {0.10, -0.05, 0}, 0.08};
  s->pass[2] = (vg_sim_pass){5, 16.5, 0, {0.10, -0.05, 0}, 0.08};
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef enum { F_STR, F_U64, F_I64, F_INT, F_DBL } ftype;
typedef struct {
  const char *key;
  ftype t;
  size_t off, cap;
  double lo, hi;
} field;

#define FD(k, t, lo, hi) {#k, t, offsetof(vg_sim_scenario, k), sizeof(((vg_sim_scenario *)0)->k), lo, hi}
static const field k_fields[] = {
  FD(name, F_STR, 0, 0),
  FD(seed, F_U64, 0, 0),
  FD(lat0, F_DBL, -80, 80),
  FD(lon0, F_DBL, -180, 180),
  FD(start_us, F_I64, 0, 0),
  FD(size_m, F_DBL, 200, 5000),
  FD(gsd_m, F_DBL, 0.5, 10),
  FD(dem, F_STR, 0, 0),
  FD(base_msl_m, F_DBL, -400, 8000),
  FD(relief_m, F_DBL, 0, 2000),
  FD(bands, F_INT, 8, 200),
  FD(snr, F_DBL, 5, 10000),
  FD(netd_k, F_DBL, 0, 5),
  FD(georeg_m, F_DBL, 0, 50),
  FD(sites, F_INT, 0, 100),
  FD(sites_new, F_INT, 0, 100),
  FD(new_from_pass, F_INT, 1, VG_SIM_MAX_PASSES),
  FD(canopy_min, F_DBL, 0, 0.95),
  FD(canopy_max, F_DBL, 0, 0.95),
  FD(warm_min_k, F_DBL, 0, 50),
  FD(warm_max_k, F_DBL, 0, 50),
  FD(vehicles, F_INT, 0, 100),
  FD(roofs, F_INT, 0, 100),
  FD(rocks, F_INT, 0, 100),
  FD(warm_rocks, F_INT, 0, 100),
  FD(alt_agl_m, F_DBL, 50, 6000),
  FD(speed_mps, F_DBL, 5, 150),
  FD(depression_deg, F_DBL, 20, 90),
  FD(hfov_deg, F_DBL, 1, 120),
  FD(width, F_INT, 64, 1920),
  FD(height, F_INT, 64, 1080),
  FD(fps, F_INT, 1, 60),
  FD(leg_sep_m, F_DBL, 0, 5000),
  FD(pos_noise_m, F_DBL, 0, 100),
  FD(att_noise_deg, F_DBL, 0, 5),
  FD(classification, F_STR, 0, 0),
  FD(releasable, F_STR, 0, 0),
};
#define NFIELDS (sizeof k_fields / sizeof k_fields[0])

static int bad(const char *path, const char *member, const char *why)
{
  return vg_error_set(VG_E_INVALID, "scenario %s: member '%s': %s", path, member, why);
}

static int read_field(const char *path, const field *f, json_t *v, vg_sim_scenario *s)
{
  char *p = (char *)s + f->off;
  char why[160];
  if (f->t == F_STR) {
    const char *str = json_string_value(v);
    if (!str)
      return bad(path, f->key, "not a string");
    if (strlen(str) >= f->cap) {
      snprintf(why, sizeof why, "longer than %zu bytes", f->cap - 1);
      return bad(path, f->key, why);
    }
    snprintf(p, f->cap, "%s", str);
    return VG_OK;
  }
  if (!json_is_number(v))
    return bad(path, f->key, "not a number");
  if (f->t == F_DBL) {
    double x = json_number_value(v);
    if (!(x >= f->lo && x <= f->hi)) {
      snprintf(why, sizeof why, "%g outside [%g, %g]", x, f->lo, f->hi);
      return bad(path, f->key, why);
    }
    *(double *)p = x;
    return VG_OK;
  }
  if (!json_is_integer(v))
    return bad(path, f->key, "not an integer");
  {
    json_int_t x = json_integer_value(v);
    if (f->t == F_INT && !(x >= f->lo && x <= f->hi)) {
      snprintf(why, sizeof why, "%lld outside [%g, %g]", (long long)x, f->lo, f->hi);
      return bad(path, f->key, why);
    }
    if ((f->t == F_U64 || f->t == F_I64) && x < 0)
      return bad(path, f->key, "negative");
    if (f->t == F_INT)
      *(int *)p = (int)x;
    else if (f->t == F_U64)
      *(uint64_t *)p = (uint64_t)x;
    else
      *(int64_t *)p = (int64_t)x;
  }
  return VG_OK;
}

static int read_num(const char *path, const char *member, json_t *v, double lo, double hi, double *out)
{
  char why[160];
  if (!json_is_number(v))
    return bad(path, member, "not a number");
  *out = json_number_value(v);
  if (!(*out >= lo && *out <= hi)) {
    snprintf(why, sizeof why, "%g outside [%g, %g]", *out, lo, hi);
    return bad(path, member, why);
  }
  return VG_OK;
}

static int read_pass(const char *path, size_t i, json_t *o, vg_sim_pass *p)
{
  const char *k;
  json_t *v;
  char m[64];
  int rc = VG_OK;
  if (!json_is_object(o)) {
    snprintf(m, sizeof m, "passes[%zu]", i);
    return bad(path, m, "not an object");
  }
  json_object_foreach(o, k, v)
  {
    snprintf(m, sizeof m, "passes[%zu].%s", i, k);
    if (!strcmp(k, "day"))
      rc = read_num(path, m, v, 0, 3650, &p->day);
    else if (!strcmp(k, "hour"))
      rc = read_num(path, m, v, 0, 24, &p->hour);
    else if (!strcmp(k, "heading_deg"))
      rc = read_num(path, m, v, -360, 360, &p->heading_deg);
    else if (!strcmp(k, "latency_s"))
      rc = read_num(path, m, v, -5, 5, &p->latency_s);
    else if (!strcmp(k, "att_bias_deg")) {
      if (!json_is_array(v) || json_array_size(v) != 3)
        return bad(path, m, "not an array of 3 numbers (heading, pitch, roll)");
      for (int a = 0; a < 3 && rc == VG_OK; a++)
        rc = read_num(path, m, json_array_get(v, (size_t)a), -10, 10, &p->att_bias_deg[a]);
    } else
      return bad(path, m, "unknown member (day, hour, heading_deg, att_bias_deg, latency_s)");
    if (rc != VG_OK)
      return rc;
  }
  return VG_OK;
}

/* The scenario in a parsed document (@p path names it in messages); takes @p root. */
static int scenario_from_json(const char *path, json_t *root, vg_sim_scenario *s)
{
  json_t *v;
  const char *k;
  int rc = VG_OK;
  vg_sim_scenario_default(s);
  if (!json_is_object(root)) {
    json_decref(root);
    return vg_error_set(VG_E_MALFORMED, "scenario %s: not a JSON object", path);
  }
  json_object_foreach(root, k, v)
  {
    size_t f;
    if (!strcmp(k, "passes")) {
      vg_sim_pass def = s->pass[0];
      if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > VG_SIM_MAX_PASSES) {
        rc = bad(path, k, "not an array of 1 to 8 passes");
        break;
      }
      s->npasses = (int)json_array_size(v);
      for (size_t i = 0; i < json_array_size(v) && rc == VG_OK; i++) {
        s->pass[i] = def; /* a pass not saying otherwise is like the default's first */
        s->pass[i].day = (double)i;
        rc = read_pass(path, i, json_array_get(v, i), &s->pass[i]);
      }
      if (rc != VG_OK)
        break;
      continue;
    }
    for (f = 0; f < NFIELDS && strcmp(k, k_fields[f].key); f++)
      ;
    if (f == NFIELDS) {
      rc = bad(path, k, "unknown member (docs/formats/scenario.md lists them)");
      break;
    }
    if ((rc = read_field(path, &k_fields[f], v, s)) != VG_OK)
      break;
  }
  json_decref(root);
  if (rc == VG_OK && (s->canopy_min > s->canopy_max || s->warm_min_k > s->warm_max_k))
    rc = vg_error_set(VG_E_INVALID, "scenario %s: a minimum above its maximum (canopy or warm)", path);
  if (rc == VG_OK && s->sites_new > s->sites)
    rc = bad(path, "sites_new", "more new sites than sites");
  if (rc == VG_OK && s->sites_new && s->new_from_pass > s->npasses)
    rc = bad(path, "new_from_pass", "after the last pass");
  if (rc == VG_OK && (s->width % 2 || s->height % 2))
    rc = bad(path, "width", "the video's width and height must be even");
  if (rc == VG_OK) {
    double px = ceil(s->size_m / s->gsd_m);
    if (px * px * s->bands > VG_SIM_MAX_CUBE_VALUES)
      rc = vg_error_set(VG_E_INVALID,
                        "scenario %s: a cube of %.0f x %.0f pixels x %d bands exceeds VG_SIM_MAX_CUBE_VALUES (%.0f): "
                        "a larger gsd_m, a smaller size_m or fewer bands",
                        path, px, px, s->bands, (double)VG_SIM_MAX_CUBE_VALUES);
  }
  return rc;
}

int vg_sim_scenario_read(const char *path, vg_sim_scenario *s)
{
  json_error_t je;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    vg_sim_scenario_default(s);
    if (json_error_code(&je) == json_error_cannot_open_file)
      return vg_error_set(VG_E_IO, "scenario %s: %s", path, je.text);
    return vg_error_set(VG_E_MALFORMED, "scenario %s: line %d column %d: %s", path, je.line, je.column, je.text);
  }
  return scenario_from_json(path, root, s);
}

int vg_sim_scenario_parse(const char *text, size_t len, const char *name, vg_sim_scenario *s)
{
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    vg_sim_scenario_default(s);
    return vg_error_set(VG_E_MALFORMED, "scenario %s: line %d column %d: %s", name, je.line, je.column, je.text);
  }
  return scenario_from_json(name, root, s);
}

int vg_sim_scenario_json(const vg_sim_scenario *s, vg_buf *out)
{
  vg_jw w;
  vg_jw_init(&w, out, 1);
  vg_jw_obj_begin(&w);
  for (size_t f = 0; f < NFIELDS; f++) {
    const char *p = (const char *)s + k_fields[f].off;
    vg_jw_key(&w, k_fields[f].key);
    switch (k_fields[f].t) {
    case F_STR: vg_jw_str(&w, p); break;
    case F_U64: vg_jw_uint(&w, *(const uint64_t *)p); break;
    case F_I64: vg_jw_int(&w, *(const int64_t *)p); break;
    case F_INT: vg_jw_int(&w, *(const int *)p); break;
    case F_DBL: vg_jw_real(&w, *(const double *)p); break;
    }
  }
  vg_jw_key(&w, "passes");
  vg_jw_arr_begin(&w);
  for (int i = 0; i < s->npasses; i++) {
    const vg_sim_pass *p = &s->pass[i];
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "day");
    vg_jw_real(&w, p->day);
    vg_jw_key(&w, "hour");
    vg_jw_real(&w, p->hour);
    vg_jw_key(&w, "heading_deg");
    vg_jw_real(&w, p->heading_deg);
    vg_jw_key(&w, "att_bias_deg");
    vg_jw_arr_begin(&w);
    for (int a = 0; a < 3; a++)
      vg_jw_real(&w, p->att_bias_deg[a]);
    vg_jw_arr_end(&w);
    vg_jw_key(&w, "latency_s");
    vg_jw_real(&w, p->latency_s);
    vg_jw_obj_end(&w);
  }
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  return vg_jw_finish(&w);
}
