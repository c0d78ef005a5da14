/*
 * vigia geolocate / footprints / geocheck: the sensor model of lib/geo run
 * over a stream's frames or metadata packets. Options shared by the three:
 * the DEM, the geoid, the ground height and the input sigmas.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "vigia/fmv.h"
#include "vigia/geo.h"
#include "vigia/raster.h"

#define GEO_COMMON_HELP                                                                           \
  "  --dem FILE        terrain (SRTM .hgt, GeoTIFF, any GDAL raster; heights MSL unless\n"       \
  "                    --dem-hae); without it the ground is the KLV frame-centre height,\n"      \
  "                    else sea level\n"                                                           \
  "  --dem-hae         the DEM's heights are ellipsoid heights\n"                                 \
  "  --ground-hae H    intersect the ellipsoid raised by H metres instead\n"                      \
  "  --geoid FILE      EGM96 GTX grid (default $VIGIA_GEOID, else " VG_GEO_GEOID_DEFAULT ")\n"   \
  "  --klv-pid PID     follow this KLV PID (default: the first that carries a pose)\n"

#define GEO_SIGMA_HELP                                                                            \
  "  --sigma-pos H,V   sensor position 1-sigma, m (default 3,6)\n"                                \
  "  --sigma-att DEG   platform attitude 1-sigma per axis (default 0.3)\n"                        \
  "  --sigma-point DEG gimbal pointing 1-sigma per axis (default 0.3)\n"                          \
  "  --sigma-time S    KLV-to-frame timing 1-sigma (default 0.05)\n"                              \
  "  --sigma-ground M  ground height 1-sigma (default 8)\n"

typedef struct geo_opts {
  const char *dem_path, *geoid_path, *out;
  int dem_hae, have_ground_h, json, every, frame, have_pixel;
  long pid;
  double ground_h, u, v;
  vg_geo_sigmas sig;
  vg_geo_geoid *geoid;
  vg_geo_dem *dem;
} geo_opts;

enum { O_DEM = 256, O_DEM_HAE, O_GROUND, O_GEOID, O_PID, O_SPOS, O_SATT, O_SPOINT, O_STIME,
       O_SGROUND, O_FRAME, O_PIXEL, O_EVERY, O_JSON };

static const struct option k_lopts[] = {
  {"dem", required_argument, NULL, O_DEM},         {"dem-hae", no_argument, NULL, O_DEM_HAE},
  {"ground-hae", required_argument, NULL, O_GROUND}, {"geoid", required_argument, NULL, O_GEOID},
  {"klv-pid", required_argument, NULL, O_PID},     {"sigma-pos", required_argument, NULL, O_SPOS},
  {"sigma-att", required_argument, NULL, O_SATT},  {"sigma-point", required_argument, NULL, O_SPOINT},
  {"sigma-time", required_argument, NULL, O_STIME}, {"sigma-ground", required_argument, NULL, O_SGROUND},
  {"frame", required_argument, NULL, O_FRAME},     {"pixel", required_argument, NULL, O_PIXEL},
  {"every", required_argument, NULL, O_EVERY},     {"json", no_argument, NULL, O_JSON},
  {"output", required_argument, NULL, 'o'},        {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0}};

static int num(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (*end || !(v >= lo && v <= hi)) {
    fprintf(stderr, "vigia %s: %s wants a number in [%g, %g], not '%s'\n", cmd, opt, lo, hi, s);
    return -1;
  }
  *out = v;
  return 0;
}

static int pair(const char *cmd, const char *opt, const char *s, double *a, double *b)
{
  char *end;
  *a = strtod(s, &end);
  if (*end != ',' || !isfinite(*a)) {
    fprintf(stderr, "vigia %s: %s wants two numbers A,B, not '%s'\n", cmd, opt, s);
    return -1;
  }
  *b = strtod(end + 1, &end);
  if (*end || !isfinite(*b)) {
    fprintf(stderr, "vigia %s: %s wants two numbers A,B, not '%s'\n", cmd, opt, s);
    return -1;
  }
  return 0;
}

/* @return 0 parsed, -1 usage error, 1 help printed */
static int parse(const char *cmd, int argc, char **argv, geo_opts *o, void (*help)(void))
{
  int c;
  memset(o, 0, sizeof *o);
  o->pid = -1;
  o->every = 1;
  o->frame = -1;
  vg_geo_sigmas_default(&o->sig);
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", k_lopts, NULL)) != -1) {
    double x;
    switch (c) {
    case O_DEM: o->dem_path = optarg; break;
    case O_DEM_HAE: o->dem_hae = 1; break;
    case O_GROUND:
      if (num(cmd, "--ground-hae", optarg, -11000, 9000, &o->ground_h))
        return -1;
      o->have_ground_h = 1;
      break;
    case O_GEOID: o->geoid_path = optarg; break;
    case O_PID:
      if (num(cmd, "--klv-pid", optarg, 0, 0x1FFE, &x))
        return -1;
      o->pid = (long)x;
      break;
    case O_SPOS:
      if (pair(cmd, "--sigma-pos", optarg, &o->sig.pos_h_m, &o->sig.pos_v_m) || o->sig.pos_h_m < 0 ||
          o->sig.pos_v_m < 0)
        return -1;
      break;
    case O_SATT:
      if (num(cmd, "--sigma-att", optarg, 0, 45, &o->sig.attitude_deg))
        return -1;
      break;
    case O_SPOINT:
      if (num(cmd, "--sigma-point", optarg, 0, 45, &o->sig.pointing_deg))
        return -1;
      break;
    case O_STIME:
      if (num(cmd, "--sigma-time", optarg, 0, 60, &o->sig.timing_s))
        return -1;
      break;
    case O_SGROUND:
      if (num(cmd, "--sigma-ground", optarg, 0, 1000, &o->sig.ground_m))
        return -1;
      break;
    case O_FRAME:
      if (num(cmd, "--frame", optarg, 0, 1e12, &x))
        return -1;
      o->frame = (int)x;
      break;
    case O_PIXEL:
      if (pair(cmd, "--pixel", optarg, &o->u, &o->v))
        return -1;
      o->have_pixel = 1;
      break;
    case O_EVERY:
      if (num(cmd, "--every", optarg, 1, 1e9, &x))
        return -1;
      o->every = (int)x;
      break;
    case O_JSON: o->json = 1; break;
    case 'o': o->out = optarg; break;
    case 'h': help(); return 1;
    default: help(); return -1;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "vigia %s: expected one input (file, URL or -)\n", cmd);
    return -1;
  }
  return 0;
}

/* Geoid (optional unless a MSL DEM is given) and DEM. */
static int load_ground(const char *cmd, geo_opts *o)
{
  if (vg_geo_geoid_open(&o->geoid, o->geoid_path) != VG_OK) {
    if (o->geoid_path || (o->dem_path && !o->dem_hae)) {
      fprintf(stderr, "vigia %s: %s\n", cmd, vg_error_last());
      return -1;
    }
    fprintf(stderr, "vigia %s: warning: %s; MSL heights are taken as ellipsoid heights\n", cmd,
            vg_error_last());
    o->geoid = NULL;
  }
  if (o->dem_path) {
    vg_raster_dem_opts d = VG_RASTER_DEM_OPTS_INIT;
    d.vdatum = o->dem_hae ? VG_GEO_VDATUM_HAE : VG_GEO_VDATUM_MSL;
    if (vg_raster_dem_open(&o->dem, o->dem_path, &d, o->geoid) != VG_OK) {
      fprintf(stderr, "vigia %s: %s\n", cmd, vg_error_last());
      return -1;
    }
  }
  return 0;
}

static void ground_of(const geo_opts *o, const vg_klv_pose *p, vg_geo_ground *g, const char **desc)
{
  if (o->have_ground_h && !o->dem) {
    g->dem = NULL;
    g->h = o->ground_h;
    *desc = "the given ellipsoid height";
    return;
  }
  vg_geo_ground_for_pose(g, p, o->dem, o->geoid, desc);
}

static void free_opts(geo_opts *o)
{
  vg_geo_dem_free(o->dem);
  vg_geo_geoid_free(o->geoid);
}

static int open_reader(const char *cmd, const geo_opts *o, const char *path, vg_fmv_source **src,
                       vg_fmv_reader **rd)
{
  vg_fmv_reader_opts ro = VG_FMV_READER_OPTS_INIT;
  ro.decode = 0;
  if (o->pid >= 0)
    ro.timeline.pid = (int)o->pid;
  if (vg_fmv_source_open(src, path) != VG_OK) {
    fprintf(stderr, "vigia %s: %s\n", cmd, vg_error_last());
    return -1;
  }
  if (vg_fmv_reader_new(rd, *src, &ro) != VG_OK) {
    fprintf(stderr, "vigia %s: %s: %s\n", cmd, path, vg_error_last());
    return -1;
  }
  return 0;
}

static int reader_damaged(vg_fmv_reader *rd)
{
  vg_fmv_demux *dm = vg_fmv_reader_demux(rd);
  return vg_fmv_demux_damaged(dm) || vg_fmv_demux_stats_get(dm)->junk_bytes ||
         vg_fmv_reader_decode_errors(rd);
}

/* ---- geolocate ------------------------------------------------------------------------ */

void vg_cmd_geolocate_help(void)
{
  printf("usage: vigia geolocate [options] --frame N --pixel U,V FILE|URL|-\n\n"
         "Puts pixel (U, V) of frame N on the ground: latitude, longitude, ellipsoid and\n"
         "sea-level height, slant range, and the uncertainty (2x2 east/north covariance,\n"
         "CE90, LE90) propagated from the position, attitude, pointing, timing (with the\n"
         "pose rates of the neighbouring frames) and ground errors. U right, V down, (0,0)\n"
         "the top-left corner of the image, pixel centres at +0.5. One JSON object.\n\n"
         "options:\n" GEO_COMMON_HELP GEO_SIGMA_HELP
         "  -h, --help        this text\n\n"
         "exit status: 0 located, 1 failed (no such frame, no pose, the ray misses), 2 usage\n");
}

static void jw_num(vg_jw *w, const char *k, double v, double scale)
{
  vg_jw_key(w, k);
  if (isfinite(v))
    vg_jw_real(w, round(v * scale) / scale);
  else
    vg_jw_null(w);
}

int vg_cmd_geolocate(int argc, char **argv)
{
  geo_opts o;
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  int status = VG_EXIT_FAILED, rc, have_prev = 0, have_cur = 0, rates_done = 0;
  vg_geo_view prev, cur;
  vg_klv_pose cur_pose;
  double t_prev = 0, t_cur = 0;
  int64_t cur_pts = 0;
  const char *desc = NULL;

  if ((rc = parse("geolocate", argc, argv, &o, vg_cmd_geolocate_help)) != 0)
    return rc > 0 ? VG_EXIT_CLEAN : VG_EXIT_USAGE;
  if (o.frame < 0 || !o.have_pixel) {
    fprintf(stderr, "vigia geolocate: --frame N and --pixel U,V are required\n");
    return VG_EXIT_USAGE;
  }
  if (load_ground("geolocate", &o) || open_reader("geolocate", &o, argv[optind], &src, &rd))
    goto done;
  for (;;) {
    const vg_fmv_frame *f;
    vg_geo_view v;
    int ok;
    memset(&v, 0, sizeof v);
    rc = vg_fmv_reader_next(rd, &f);
    if (rc == VG_E_TRUNCATED)
      break;
    if (rc != VG_OK) {
      fprintf(stderr, "vigia geolocate: %s: %s\n", argv[optind], vg_error_last());
      goto done;
    }
    if (f->index < o.frame - 1)
      continue;
    ok = f->meta.align != VG_FMV_ALIGN_NONE &&
         vg_geo_view_from_pose(&v, &f->meta.pose, o.geoid, f->width, f->height, NULL) == VG_OK;
    if (f->index == o.frame - 1) {
      have_prev = ok;
      prev = v;
      t_prev = f->time_s;
      continue;
    }
    if (f->index == o.frame) {
      if (f->meta.align == VG_FMV_ALIGN_NONE) {
        fprintf(stderr, "vigia geolocate: frame %d has no metadata within the maximum age\n", o.frame);
        goto done;
      }
      if (vg_geo_view_from_pose(&cur, &f->meta.pose, o.geoid, f->width, f->height, NULL) != VG_OK) {
        fprintf(stderr, "vigia geolocate: frame %d: %s\n", o.frame, vg_error_last());
        goto done;
      }
      have_cur = 1;
      cur_pose = f->meta.pose;
      t_cur = f->time_s;
      cur_pts = f->pts;
      continue;
    }
    /* the next frame: rates, then stop */
    vg_geo_view_rates(&cur, have_prev ? &prev : NULL, t_cur - t_prev, ok ? &v : NULL,
                      f->time_s - t_cur);
    rates_done = 1;
    break;
  }
  if (!have_cur) {
    fprintf(stderr, "vigia geolocate: %s has no frame %d\n", argv[optind], o.frame);
    goto done;
  }
  if (!rates_done) /* the last frame: the rates from the one before */
    vg_geo_view_rates(&cur, have_prev ? &prev : NULL, t_cur - t_prev, NULL, 0);
  {
    vg_geo_ground g;
    vg_geo_point pt;
    vg_buf b;
    vg_jw w;
    ground_of(&o, &cur_pose, &g, &desc);
    if (vg_geo_locate(&cur, &g, &o.sig, o.geoid, o.u, o.v, &pt) != VG_OK) {
      fprintf(stderr, "vigia geolocate: frame %d pixel (%g, %g): %s\n", o.frame, o.u, o.v,
              vg_error_last());
      goto done;
    }
    vg_buf_init(&b, 1 << 16);
    vg_jw_init(&w, &b, 1);
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "frame");
    vg_jw_int(&w, o.frame);
    jw_num(&w, "pts_s", cur_pts == VG_FMV_NOPTS ? NAN : (double)cur_pts / 90000.0, 1e6);
    vg_jw_key(&w, "pixel");
    vg_jw_arr_begin(&w);
    vg_jw_real(&w, o.u);
    vg_jw_real(&w, o.v);
    vg_jw_arr_end(&w);
    jw_num(&w, "lat", pt.llh.lat, 1e9);
    jw_num(&w, "lon", pt.llh.lon, 1e9);
    jw_num(&w, "hae_m", pt.llh.h, 1e3);
    jw_num(&w, "msl_m", pt.msl, 1e3);
    jw_num(&w, "slant_range_m", pt.range, 1e3);
    vg_jw_key(&w, "ground");
    vg_jw_str(&w, desc);
    vg_jw_key(&w, "cov_en_m2");
    vg_jw_arr_begin(&w);
    for (int i = 0; i < 4; i++)
      vg_jw_real(&w, round(pt.cov_en[i] * 1e3) / 1e3);
    vg_jw_arr_end(&w);
    jw_num(&w, "sigma_up_m", pt.sigma_up, 1e3);
    jw_num(&w, "ce90_m", pt.ce90, 1e2);
    jw_num(&w, "le90_m", pt.le90, 1e2);
    vg_jw_key(&w, "sensor");
    vg_jw_obj_begin(&w);
    jw_num(&w, "lat", cur.pos.lat, 1e9);
    jw_num(&w, "lon", cur.pos.lon, 1e9);
    jw_num(&w, "hae_m", cur.pos.h, 1e3);
    vg_jw_key(&w, "pointing");
    vg_jw_str(&w, cur.absolute ? "absolute" : "platform+gimbal");
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
    if (vg_jw_finish(&w) == VG_OK) {
      fwrite(b.data, 1, b.len, stdout);
      fputc('\n', stdout);
      status = reader_damaged(rd) ? VG_EXIT_PARTIAL : VG_EXIT_CLEAN;
    }
    vg_buf_free(&b);
  }
done:
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  free_opts(&o);
  return status;
}

/* ---- footprints ----------------------------------------------------------------------- */

void vg_cmd_footprints_help(void)
{
  printf("usage: vigia footprints [options] -o OUT.geojson|OUT.kml FILE|URL|-\n\n"
         "Puts every frame of a stream on the ground: the track of the sensor, each\n"
         "frame's footprint (its border draped on the DEM or cut at the horizon) and its\n"
         "centre with CE90/LE90. GeoJSON heights are ellipsoid heights (RFC 7946); KML\n"
         "altitudes are above sea level.\n\n"
         "options:\n"
         "  -o, --output FILE .geojson or .kml (required)\n"
         "  --every N         one frame in N (default 1)\n" GEO_COMMON_HELP GEO_SIGMA_HELP
         "  -h, --help        this text\n\n"
         "exit status: 0 clean, 1 failed, 2 usage, 3 partial (damaged input)\n");
}

static int ends_with(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcasecmp(s + a - b, suf);
}

int vg_cmd_footprints(int argc, char **argv)
{
  geo_opts o;
  vg_fmv_source *src = NULL;
  vg_fmv_reader *rd = NULL;
  vg_geo_footprint *fp = NULL;
  size_t n = 0, cap = 0, nopose = 0, nohit = 0, total = 0;
  int status = VG_EXIT_FAILED, rc, kml, have_prev = 0;
  vg_geo_view prev;
  double t_prev = 0;
  vg_buf b;
  const char *desc = NULL;

  vg_buf_init(&b, (size_t)1 << 30);
  if ((rc = parse("footprints", argc, argv, &o, vg_cmd_footprints_help)) != 0)
    return rc > 0 ? VG_EXIT_CLEAN : VG_EXIT_USAGE;
  if (!o.out || !(ends_with(o.out, ".geojson") || ends_with(o.out, ".json") || ends_with(o.out, ".kml"))) {
    fprintf(stderr, "vigia footprints: -o OUT.geojson or -o OUT.kml is required\n");
    return VG_EXIT_USAGE;
  }
  kml = ends_with(o.out, ".kml");
  if (load_ground("footprints", &o) || open_reader("footprints", &o, argv[optind], &src, &rd))
    goto done;
  for (;;) {
    const vg_fmv_frame *f;
    vg_geo_view v;
    vg_geo_ground g;
    rc = vg_fmv_reader_next(rd, &f);
    if (rc == VG_E_TRUNCATED)
      break;
    if (rc != VG_OK) {
      fprintf(stderr, "vigia footprints: %s: %s\n", argv[optind], vg_error_last());
      goto done;
    }
    total++;
    if (f->index % o.every)
      continue;
    if (f->meta.align == VG_FMV_ALIGN_NONE ||
        vg_geo_view_from_pose(&v, &f->meta.pose, o.geoid, f->width, f->height, NULL) != VG_OK) {
      nopose++;
      continue;
    }
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 256;
      vg_geo_footprint *p = realloc(fp, nc * sizeof *p);
      if (!p) {
        fprintf(stderr, "vigia footprints: out of memory at %zu frames\n", n);
        goto done;
      }
      fp = p;
      cap = nc;
    }
    /* pose rates for the timing term: from the previous frame with a pose */
    vg_geo_view_rates(&v, have_prev ? &prev : NULL, f->time_s - t_prev, NULL, 0);
    prev = v;
    t_prev = f->time_s;
    have_prev = 1;
    ground_of(&o, &f->meta.pose, &g, &desc);
    if (vg_geo_footprint_compute(&v, &g, &o.sig, o.geoid, &fp[n]) != VG_OK) {
      nohit++;
      continue;
    }
    fp[n].frame = f->index;
    fp[n].time_s = f->time_s;
    n++;
  }
  rc = kml ? vg_geo_footprints_kml(&b, fp, n, argv[optind], o.geoid)
           : vg_geo_footprints_geojson(&b, fp, n, argv[optind]);
  if (rc != VG_OK) {
    fprintf(stderr, "vigia footprints: %s\n", vg_error_last());
    goto done;
  }
  {
    FILE *out = fopen(o.out, "wb");
    int ok = out && fwrite(b.data, 1, b.len, out) == b.len;
    if (out)
      ok &= fclose(out) == 0;
    if (!ok) {
      fprintf(stderr, "vigia footprints: cannot write '%s'\n", o.out);
      goto done;
    }
  }
  fprintf(stderr, "vigia footprints: %s: %zu frames, %zu footprints, %zu without a pose, %zu off the "
                  "ground; ground: %s -> %s\n",
          argv[optind], total, n, nopose, nohit, desc ? desc : "none", o.out);
  status = n == 0 ? VG_EXIT_FAILED : reader_damaged(rd) ? VG_EXIT_PARTIAL : VG_EXIT_CLEAN;
  if (n == 0)
    fprintf(stderr, "vigia footprints: no frame could be put on the ground\n");
done:
  free(fp);
  vg_buf_free(&b);
  vg_fmv_reader_free(rd);
  vg_fmv_source_free(src);
  free_opts(&o);
  return status;
}

/* ---- geocheck ------------------------------------------------------------------------- */

void vg_cmd_geocheck_help(void)
{
  printf("usage: vigia geocheck [options] FILE|URL|-\n\n"
         "Compares the frame centre and corners that each KLV packet carries with the\n"
         "ones vigia computes from the same packet's pose, as metres on the ground and\n"
         "as azimuth, elevation and height seen from the sensor, and says what the\n"
         "encoder did differently: a constant azimuth bias (grid north for true north,\n"
         "magnetic declination), an MSL/HAE mix-up (an offset equal to the geoid), a\n"
         "timing offset (a residual that follows the pointing rate). Then the residuals\n"
         "with those removed.\n\n"
         "options:\n" GEO_COMMON_HELP
         "  --json            one JSON object instead of the table\n"
         "  -h, --help        this text\n\n"
         "exit status: 0 checked, 1 failed (no usable packet), 2 usage, 3 partial (damaged input)\n");
}

int vg_cmd_geocheck(int argc, char **argv)
{
  geo_opts o;
  vg_fmv_source *src = NULL;
  vg_fmv_demux *d = NULL;
  vg_fmv_demux_opts dopt = VG_FMV_DEMUX_OPTS_INIT;
  vg_geo_check *chk = NULL;
  vg_geo_check_opts co;
  vg_geo_check_result r;
  uint8_t *chunk = NULL;
  int status = VG_EXIT_FAILED, rc;
  long pid = -1;
  size_t npackets = 0;

  if ((rc = parse("geocheck", argc, argv, &o, vg_cmd_geocheck_help)) != 0)
    return rc > 0 ? VG_EXIT_CLEAN : VG_EXIT_USAGE;
  if (load_ground("geocheck", &o))
    goto done;
  memset(&co, 0, sizeof co);
  co.ground.dem = o.dem;
  co.ground.h = o.ground_h;
  co.ground_from_klv = !o.have_ground_h;
  co.geoid = o.geoid;
  if (vg_geo_check_new(&chk, &co) != VG_OK || vg_fmv_demux_new(&d, &dopt) != VG_OK ||
      !(chunk = malloc(1 << 18))) {
    fprintf(stderr, "vigia geocheck: out of memory\n");
    goto done;
  }
  if (vg_fmv_source_open(&src, argv[optind]) != VG_OK) {
    fprintf(stderr, "vigia geocheck: %s\n", vg_error_last());
    goto done;
  }
  for (;;) {
    long nr = (long)vg_fmv_source_read(src, chunk, 1 << 18);
    vg_fmv_klv k;
    if (nr < 0) {
      fprintf(stderr, "vigia geocheck: %s: read error: %s\n", argv[optind], vg_error_last());
      nr = 0;
    }
    if (nr == 0)
      vg_fmv_demux_finish(d);
    else if (vg_fmv_demux_feed(d, chunk, (size_t)nr) != VG_OK) {
      fprintf(stderr, "vigia geocheck: %s: %s\n", argv[optind], vg_error_last());
      goto done;
    }
    while (vg_fmv_demux_next(d, &k) == VG_OK) {
      vg_klv_pose p;
      if (o.pid >= 0 ? k.pid != o.pid : (pid >= 0 && k.pid != pid))
        continue;
      if (vg_klv_pose_from_packet(&p, k.pkt) != VG_OK)
        continue;
      if (pid < 0)
        pid = k.pid;
      npackets++;
      vg_geo_check_add(chk, &p);
    }
    if (nr == 0)
      break;
  }
  if (vg_geo_check_result_get(chk, &r) != VG_OK) {
    fprintf(stderr, "vigia geocheck: %s: %s\n", argv[optind], vg_error_last());
    goto done;
  }
  if (o.json) {
    vg_buf b;
    vg_jw w;
    vg_buf_init(&b, 1 << 20);
    vg_jw_init(&w, &b, 1);
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "pid");
    vg_jw_int(&w, pid);
    vg_jw_key(&w, "packets");
    vg_jw_uint(&w, npackets);
    vg_jw_key(&w, "checked");
    vg_jw_uint(&w, r.n);
    vg_jw_key(&w, "skipped");
    vg_jw_uint(&w, r.skipped);
    vg_jw_key(&w, "ground");
    vg_jw_str(&w, r.ground_desc);
    jw_num(&w, "centre_median_m", r.centre_med_m, 1e3);
    jw_num(&w, "centre_max_m", r.centre_max_m, 1e3);
    jw_num(&w, "corner_median_m", r.corner_med_m, 1e3);
    jw_num(&w, "az_bias_deg", r.az_bias, 1e5);
    jw_num(&w, "az_sd_deg", r.az_sd, 1e5);
    jw_num(&w, "el_bias_deg", r.el_bias, 1e5);
    jw_num(&w, "el_sd_deg", r.el_sd, 1e5);
    jw_num(&w, "height_offset_m", r.dh_m, 1e3);
    jw_num(&w, "height_sd_m", r.dh_sd_m, 1e3);
    jw_num(&w, "slant_range_err_median_m", r.range_err_med_m, 1e3);
    jw_num(&w, "geoid_n_m", r.geoid_n, 1e3);
    jw_num(&w, "timing_s", r.timing_s, 1e4);
    jw_num(&w, "timing_r2", r.timing_r2, 1e4);
    vg_jw_key(&w, "utm_zone");
    vg_jw_int(&w, r.utm_zone);
    jw_num(&w, "utm_convergence_deg", r.convergence_deg, 1e5);
    vg_jw_key(&w, "findings");
    vg_jw_arr_begin(&w);
    for (int i = 0; i < r.nfind; i++) {
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "kind");
      vg_jw_str(&w, vg_geo_finding_name(r.find[i]));
      jw_num(&w, "value", r.find_value[i], 1e5);
      vg_jw_key(&w, "cause");
      vg_jw_str(&w, r.find_cause[i]);
      vg_jw_obj_end(&w);
    }
    vg_jw_arr_end(&w);
    jw_num(&w, "corrected_centre_median_m", r.corrected_centre_med_m, 1e3);
    jw_num(&w, "corrected_centre_max_m", r.corrected_centre_max_m, 1e3);
    jw_num(&w, "corrected_corner_median_m", r.corrected_corner_med_m, 1e3);
    vg_jw_obj_end(&w);
    if (vg_jw_finish(&w) == VG_OK) {
      fwrite(b.data, 1, b.len, stdout);
      fputc('\n', stdout);
    }
    vg_buf_free(&b);
  } else {
    printf("%s: PID 0x%04lX, %zu packets with a pose, %zu checked, %zu skipped\n", argv[optind],
           pid, npackets, r.n, r.skipped);
    printf("ground: %s\n\n", r.ground_desc);
    printf("  frame centre, computed - KLV:   median %8.2f m   max %8.2f m\n", r.centre_med_m,
           r.centre_max_m);
    if (isfinite(r.corner_med_m))
      printf("  corners, computed - KLV:        median %8.2f m\n", r.corner_med_m);
    printf("  seen from the sensor (KLV - computed, median +- robust sd):\n");
    printf("    azimuth    %+9.4f deg +- %.4f\n", r.az_bias, r.az_sd);
    printf("    elevation  %+9.4f deg +- %.4f\n", r.el_bias, r.el_sd);
    printf("    height     %+9.2f m   +- %.2f   (ground change that puts the KLV centre on the ray)\n",
           r.dh_m, r.dh_sd_m);
    if (isfinite(r.range_err_med_m))
      printf("    slant range (tag 21) %+8.2f m\n", r.range_err_med_m);
    if (isfinite(r.geoid_n))
      printf("  EGM96 undulation at the centre %+.2f m; UTM zone %d convergence %+.4f deg\n",
             r.geoid_n, r.utm_zone, r.convergence_deg);
    if (isfinite(r.timing_s))
      printf("  delay fitted to the footprint motion %+.3f s (R^2 %.2f)\n", r.timing_s, r.timing_r2);
    printf("\nfindings:\n");
    if (!r.nfind)
      printf("  none: no constant azimuth, elevation or height offset, no timing offset\n");
    for (int i = 0; i < r.nfind; i++)
      printf("  %-15s %+10.4f %s  %s\n", vg_geo_finding_name(r.find[i]), r.find_value[i],
             (r.find[i] == VG_GEO_FIND_HEIGHT || r.find[i] == VG_GEO_FIND_INCONSISTENT) ? "m  "
             : r.find[i] == VG_GEO_FIND_TIMING                                        ? "s  "
                                                                                       : "deg",
             r.find_cause[i]);
    if (r.nfind && r.find[0] != VG_GEO_FIND_INCONSISTENT) {
      printf("\nwith the findings removed:\n");
      printf("  frame centre:  median %8.2f m   max %8.2f m\n", r.corrected_centre_med_m,
             r.corrected_centre_max_m);
      if (isfinite(r.corrected_corner_med_m))
        printf("  corners:       median %8.2f m\n", r.corrected_corner_med_m);
    }
  }
  status = vg_fmv_demux_damaged(d) ? VG_EXIT_PARTIAL : VG_EXIT_CLEAN;
done:
  free(chunk);
  vg_fmv_demux_free(d);
  vg_fmv_source_free(src);
  vg_geo_check_free(chk);
  free_opts(&o);
  return status;
}
