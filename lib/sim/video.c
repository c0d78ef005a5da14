/*
 * The simulated full-motion video of a pass: a fixed-wing drone flies two
 * survey legs joined by a coordinated 180-degree turn, its gimbal holding the
 * camera at a fixed depression along the track; every frame is rendered by
 * casting the true camera's rays onto the DEM (lib/geo, the same sensor model
 * that reads video back) and colouring the ground with the world's land cover
 * and objects; the frames are MPEG-2 encoded (lib/fmv's writer) with an
 * ST 0601 packet each, nesting an ST 0102 security set.
 *
 * What the KLV gets wrong, as real encoders do: the pose fields (platform
 * position and attitude) are latency_s old, carry GNSS/INS noise per frame,
 * and the reported attitude carries the pass's bias; the frame centre and
 * corners are the true ground under the image (as a video tracker would
 * register them), so `vigia geocheck` can find the biases and the latency.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"
#include "vigia/fmv.h"
#include "vigia/klv.h"

#define GRAVITY 9.80665
#define CRUISE_PITCH_DEG 2.0
#define MAX_BANK_DEG 30.0
/* Rays are cast every RAY_STEP pixels; the ground between them is interpolated. */
#define RAY_STEP 8
/* The gimbal's scan (see true_view). */
#define SCAN_AZ_DEG 25.0
#define SCAN_AZ_S 24.0
#define SCAN_EL_DEG 8.0
#define SCAN_EL_S 37.0

typedef struct {
  double e, n, heading, roll; /* true platform */
} fpose;

/* The flight path of a pass, parametrised by time. */
typedef struct {
  double ue, un, ve, vn;       /* along-track and right-hand unit vectors */
  double a0, aT, a_end;        /* along-track: start of leg 1, turn, end of leg 2 */
  double lat1, lat2, radius;   /* lateral offsets of the legs, turn radius */
  double heading0, speed;
  double t_leg1, t_turn, t_total;
} path;

static void path_init(const vg_sim_scenario *sc, const vg_sim_pass *ps, path *p)
{
  double h = ps->heading_deg * SIM_DEG, ahead = sc->alt_agl_m / tan(sc->depression_deg * SIM_DEG);
  double half = 0.5 * sc->size_m;
  p->ue = sin(h);
  p->un = cos(h);
  p->ve = cos(h); /* right of the track */
  p->vn = -sin(h);
  p->heading0 = ps->heading_deg;
  p->speed = sc->speed_mps;
  /* a fixed wing turns no tighter than its bank allows: MAX_BANK_DEG */
  p->radius = fmax(0.5 * sc->leg_sep_m, sc->speed_mps * sc->speed_mps / (GRAVITY * tan(MAX_BANK_DEG * SIM_DEG)));
  p->lat1 = -p->radius;
  p->lat2 = p->radius;
  /* the footprint centre sweeps the scene and 50 m beyond on each leg */
  p->a0 = -half - ahead - 50;
  p->aT = half + ahead + 50;
  p->a_end = -half + ahead - 50;
  p->t_leg1 = (p->aT - p->a0) / p->speed;
  p->t_turn = M_PI * p->radius / p->speed;
  p->t_total = p->t_leg1 + p->t_turn + (p->aT - p->a_end) / p->speed;
}

static void path_at(const path *p, double t, fpose *f)
{
  double a, l, hd;
  if (t < 0)
    t = 0;
  if (t <= p->t_leg1) {
    a = p->a0 + p->speed * t;
    l = p->lat1;
    hd = p->heading0;
    f->roll = 0;
  } else if (t <= p->t_leg1 + p->t_turn) {
    double th = (t - p->t_leg1) * p->speed / p->radius; /* 0..pi, turning right */
    a = p->aT + p->radius * sin(th);
    l = p->lat1 + p->radius * (1 - cos(th));
    hd = p->heading0 + th / SIM_DEG;
    f->roll = atan(p->speed * p->speed / (GRAVITY * p->radius)) / SIM_DEG;
  } else {
    a = p->aT - p->speed * (t - p->t_leg1 - p->t_turn);
    l = p->lat2;
    hd = p->heading0 + 180.0;
    f->roll = 0;
  }
  f->e = a * p->ue + l * p->ve;
  f->n = a * p->un + l * p->vn;
  f->heading = fmod(fmod(hd, 360.0) + 360.0, 360.0);
}

/* Row-major 3x3 products for the gimbal angles. */
static void rz(double a, double m[9])
{
  double c = cos(a * SIM_DEG), s = sin(a * SIM_DEG);
  double r[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
  memcpy(m, r, sizeof r);
}
static void ry(double a, double m[9])
{
  double c = cos(a * SIM_DEG), s = sin(a * SIM_DEG);
  double r[9] = {c, 0, s, 0, 1, 0, -s, 0, c};
  memcpy(m, r, sizeof r);
}
static void rx(double a, double m[9])
{
  double c = cos(a * SIM_DEG), s = sin(a * SIM_DEG);
  double r[9] = {1, 0, 0, 0, c, -s, 0, s, c};
  memcpy(m, r, sizeof r);
}
static void mul(const double a[9], const double b[9], double o[9])
{
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      o[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

/* Gimbal angles (relative az, el, roll) that hold the line of sight at (az, -dep, 0) in NED. */
static void gimbal(double heading, double pitch, double roll, double az, double dep, double out[3])
{
  double a[9], b[9], c[9], rp[9], rc[9], rpt[9], rr[9];
  rz(heading, a);
  ry(pitch, b);
  rx(roll, c);
  mul(a, b, rp);
  mul(rp, c, a);
  memcpy(rp, a, sizeof a);
  rz(az, a);
  ry(-dep, b);
  mul(a, b, rc);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      rpt[3 * i + j] = rp[3 * j + i];
  mul(rpt, rc, rr);
  /* rr = Rz(a) Ry(e) Rx(r) */
  out[1] = -asin(fmax(-1.0, fmin(1.0, rr[6]))) / SIM_DEG;
  out[0] = atan2(rr[3], rr[0]) / SIM_DEG;
  out[2] = atan2(rr[7], rr[8]) / SIM_DEG;
  for (int k = 0; k < 3; k += 2) /* az and roll are 0..360 in ST 0601 */
    if (out[k] < 0)
      out[k] += 360.0;
}

/* The true view at time t. */
static void true_view(const vg_sim_scenario *sc, const path *pth, double alt_msl, const vg_geo_geoid *geoid,
                      double t, vg_geo_view *v)
{
  fpose f;
  double lat, lon, g[3];
  path_at(pth, t, &f);
  memset(v, 0, sizeof *v);
  sim_en_to_ll(sc, f.e, f.n, &lat, &lon);
  v->pos.lat = lat;
  v->pos.lon = lon;
  v->pos.h = alt_msl + vg_geo_geoid_n(geoid, lat, lon);
  v->heading = f.heading;
  v->pitch = CRUISE_PITCH_DEG;
  v->roll = f.roll;
  /* the operator's slow scan: the line of sight sweeps 25 deg either side of the track
   * (period 24 s) and 8 deg in depression (period 37 s), as FMV sensors are slewed */
  gimbal(v->heading, v->pitch, v->roll, f.heading + SCAN_AZ_DEG * sin(2 * M_PI * t / SCAN_AZ_S),
         sc->depression_deg + SCAN_EL_DEG * sin(2 * M_PI * t / SCAN_EL_S), g);
  v->rel_az = g[0];
  v->rel_el = g[1];
  v->rel_roll = g[2];
  v->hfov = sc->hfov_deg;
  v->vfov = 2.0 * atan(tan(0.5 * sc->hfov_deg * SIM_DEG) * sc->height / sc->width) / SIM_DEG;
  v->width = sc->width;
  v->height = sc->height;
}

/* ---- rendering ------------------------------------------------------------------------------ */

typedef struct {
  const sim_world *w;
  int pass;
  double hour, gain, sun[3];
  int W, H, gw, gh;
  const double *ge, *gn; /* ground (e, n) at the ray grid, NAN for a miss */
  uint8_t *rgb;
  int64_t frame;
  int row0, row1;
} render_job;

/* The tone curve 255 x^(1/2.2) on [0, 1], tabulated. */
#define TONE_N 4097
static float k_tone[TONE_N];
static pthread_once_t k_tone_once = PTHREAD_ONCE_INIT;
static void tone_init(void)
{
  for (int i = 0; i < TONE_N; i++)
    k_tone[i] = (float)(255.0 * pow((double)i / (TONE_N - 1), 1 / 2.2));
}

static void *render_rows(void *arg)
{
  render_job *j = arg;
  const sim_world *w = j->w;
  for (int y = j->row0; y < j->row1; y++) {
    int gy = y / RAY_STEP;
    double fy = (double)(y - gy * RAY_STEP) / RAY_STEP;
    if (gy >= j->gh - 1) {
      gy = j->gh - 2;
      fy = 1.0;
    }
    for (int x = 0; x < j->W; x++) {
      int gx = x / RAY_STEP;
      double fx = (double)(x - gx * RAY_STEP) / RAY_STEP, e, n, c[3] = {0, 0, 0};
      const double *E = j->ge, *N = j->gn;
      size_t i00, i01, i10, i11;
      uint8_t *px = j->rgb + ((size_t)y * (size_t)j->W + (size_t)x) * 3;
      if (gx >= j->gw - 1) {
        gx = j->gw - 2;
        fx = 1.0;
      }
      i00 = (size_t)gy * (size_t)j->gw + (size_t)gx;
      i01 = i00 + 1;
      i10 = i00 + (size_t)j->gw;
      i11 = i10 + 1;
      if (!isfinite(E[i00]) || !isfinite(E[i01]) || !isfinite(E[i10]) || !isfinite(E[i11])) {
        px[0] = 150; /* haze above the horizon */
        px[1] = 170;
        px[2] = 200;
        continue;
      }
      e = (1 - fy) * ((1 - fx) * E[i00] + fx * E[i01]) + fy * ((1 - fx) * E[i10] + fx * E[i11]);
      n = (1 - fy) * ((1 - fx) * N[i00] + fx * N[i01]) + fy * ((1 - fx) * N[i10] + fx * N[i11]);
      {
        sim_sample s;
        double nrm[3], illum;
        sim_sample_at(w, e, n, j->pass, j->hour, &s);
        for (int k = 0; k < s.n; k++)
          for (int b = 0; b < 3; b++)
            c[b] += s.w[k] * w->rgb[s.m[k]][b];
        sim_normal(w, e, n, nrm);
        illum = j->sun[2] > 0.05
                  ? fmax(0.0, nrm[0] * j->sun[0] + nrm[1] * j->sun[1] + nrm[2] * j->sun[2]) / j->sun[2]
                  : 0.0;
        illum = j->gain * (0.2 + 0.8 * fmin(illum, 1.6));
        for (int b = 0; b < 3; b++) {
          /* a camera's tone curve: reflectance 0.8 at full scale, gamma 2.2, 1.5 DN of noise */
          double lin = c[b] * illum / 0.8, v;
          int li = (int)(lin * (TONE_N - 1));
          v = (li < 0 ? 0.0 : li >= TONE_N - 1 ? 255.0 : k_tone[li] + (k_tone[li + 1] - k_tone[li]) * (lin * (TONE_N - 1) - li)) +
                     1.5 * sim_hash_normal(w->sc->seed, 3000 + (uint64_t)j->pass * 1000003 + (uint64_t)j->frame,
                                           (uint64_t)y * (uint64_t)j->W + (uint64_t)x, (uint64_t)b);
          px[b] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
        }
      }
    }
  }
  return NULL;
}

/* ---- KLV ----------------------------------------------------------------------------------- */

static int class_code(const char *s)
{
  static const char *const k[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, k[i]))
      return i + 1;
  return 1;
}

typedef struct {
  uint64_t time_us;
  double lat, lon, alt_msl, heading, pitch, roll, rel[3], hfov, vfov, slant, width;
  double fc_lat, fc_lon, fc_msl, c_lat[4], c_lon[4];
  int has_fc;
} klv_rec;

static int encode_klv(const vg_sim_scenario *sc, int pass, const klv_rec *k, vg_buf *out)
{
  vg_klv_item it[40], sec[6];
  vg_klv_set secset;
  vg_klv_packet pkt;
  char mission[64], cc[16];
  size_t n = 0, ns = 0;
  snprintf(mission, sizeof mission, "%.40s PASS %d", sc->name, pass);
  snprintf(cc, sizeof cc, "//USA");
  sec[ns++] = vg_klv_item_uint(1, (uint64_t)class_code(sc->classification));
  sec[ns++] = vg_klv_item_uint(2, 0x0E); /* GENC three-letter */
  sec[ns++] = vg_klv_item_str(3, cc);
  sec[ns++] = vg_klv_item_str(6, sc->releasable);
  sec[ns++] = vg_klv_item_uint(12, 0x0E);
  sec[ns++] = vg_klv_item_uint(22, 12);
  memset(&secset, 0, sizeof secset);
  secset.kind = VG_KLV_KIND_ST0102;
  secset.items = sec;
  secset.n = ns;
  it[n++] = vg_klv_item_time(2, k->time_us);
  it[n++] = vg_klv_item_str(3, mission);
  it[n++] = vg_klv_item_real(5, k->heading);
  it[n++] = vg_klv_item_real(6, k->pitch);
  it[n++] = vg_klv_item_real(7, k->roll);
  it[n++] = vg_klv_item_str(10, "VIGIA-SIM");
  it[n++] = vg_klv_item_real(13, k->lat);
  it[n++] = vg_klv_item_real(14, k->lon);
  it[n++] = vg_klv_item_real(15, k->alt_msl);
  it[n++] = vg_klv_item_real(16, k->hfov);
  it[n++] = vg_klv_item_real(17, k->vfov);
  it[n++] = vg_klv_item_real(18, k->rel[0]);
  it[n++] = vg_klv_item_real(19, k->rel[1]);
  it[n++] = vg_klv_item_real(20, k->rel[2]);
  it[n++] = vg_klv_item_real(21, k->slant);
  it[n++] = vg_klv_item_real(22, k->width);
  if (k->has_fc) {
    it[n++] = vg_klv_item_real(23, k->fc_lat);
    it[n++] = vg_klv_item_real(24, k->fc_lon);
    it[n++] = vg_klv_item_real(25, k->fc_msl);
  }
  memset(&it[n], 0, sizeof it[n]);
  it[n].tag = 48;
  it[n].type = VG_KLV_T_SET;
  it[n].child = &secset;
  n++;
  it[n++] = vg_klv_item_uint(65, 17);
  if (k->has_fc)
    for (int c = 0; c < 4; c++) {
      it[n++] = vg_klv_item_real(82 + 2 * (uint32_t)c, k->c_lat[c]);
      it[n++] = vg_klv_item_real(83 + 2 * (uint32_t)c, k->c_lon[c]);
    }
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = VG_KLV_KIND_ST0601;
  pkt.set.kind = VG_KLV_KIND_ST0601;
  pkt.set.items = it;
  pkt.set.n = n;
  return vg_klv_encode(out, &pkt);
}

int sim_video(const sim_world *w, int p, const vg_geo_dem *dem, const char *path_out, vg_sim_progress_fn fn,
              void *ud)
{
  const vg_sim_scenario *sc = w->sc;
  const vg_sim_pass *ps = &sc->pass[p - 1];
  vg_fmv_writer_opts wo = VG_FMV_WRITER_OPTS_INIT;
  vg_fmv_writer *wr = NULL;
  vg_geo_geoid *geoid = NULL;
  vg_geo_ground g = {dem, 0};
  path pth;
  int W = sc->width, H = sc->height, gw = (W + RAY_STEP - 1) / RAY_STEP + 1, gh = (H + RAY_STEP - 1) / RAY_STEP + 1;
  double *ge = NULL, *gn = NULL, alt_msl, heat;
  uint8_t *rgb = NULL;
  double t0_day_us;
  int64_t nframes;
  sim_rng rng;
  vg_buf kb;
  int rc;
  double sun[3], gain;

  pthread_once(&k_tone_once, tone_init);
  path_init(sc, ps, &pth);
  nframes = (int64_t)floor(pth.t_total * sc->fps);
  alt_msl = sim_height(w, 0, 0) + sc->alt_agl_m;
  if ((rc = vg_geo_geoid_open(&geoid, NULL)) != VG_OK)
    return rc;
  ge = malloc((size_t)gw * (size_t)gh * sizeof *ge);
  gn = malloc((size_t)gw * (size_t)gh * sizeof *gn);
  rgb = malloc((size_t)W * (size_t)H * 3);
  vg_buf_init(&kb, 1u << 20);
  if (!ge || !gn || !rgb) {
    rc = vg_error_set(VG_E_NOMEM, "simulator video");
    goto out;
  }
  wo.width = W;
  wo.height = H;
  wo.fps_num = sc->fps;
  wo.fps_den = 1;
  wo.gop = sc->fps;
  wo.klv_sync = 1; /* STANAG 4609 synchronous metadata: each frame's pose at its PTS */
  if ((rc = vg_fmv_writer_open(&wr, path_out, &wo)) != VG_OK)
    goto out;
  sim_sun(ps->hour, sun, &heat);
  {
    sim_rng gr;
    sim_rng_seed(&gr, sc->seed, 200 + (uint64_t)p); /* the day's light, as the cube's */
    gain = sim_rng_range(&gr, 0.85, 1.15);
  }
  sim_rng_seed(&rng, sc->seed, 300 + (uint64_t)p);
  t0_day_us = (double)sim_pass_time_us(sc, p);
  for (int64_t f = 0; f < nframes && rc == VG_OK; f++) {
    double t = (double)f / sc->fps;
    vg_geo_view v, vr;
    vg_geo_camera cam;
    klv_rec k;
    memset(&k, 0, sizeof k);
    true_view(sc, &pth, alt_msl, geoid, t, &v);
    if ((rc = vg_geo_camera_init(&cam, &v)) != VG_OK)
      break;
    /* the ground under the ray grid */
    for (int gy = 0; gy < gh; gy++)
      for (int gx = 0; gx < gw; gx++) {
        vg_geo_llh hit;
        size_t i = (size_t)gy * (size_t)gw + (size_t)gx;
        double u = fmin((double)gx * RAY_STEP, W), vv = fmin((double)gy * RAY_STEP, H);
        if (vg_geo_camera_ground(&cam, &g, u, vv, &hit, NULL) == VG_OK)
          sim_ll_to_en(sc, hit.lat, hit.lon, &ge[i], &gn[i]);
        else
          ge[i] = gn[i] = NAN;
      }
    {
      render_job jobs[2];
      pthread_t th;
      int threaded;
      for (int q = 0; q < 2; q++) {
        jobs[q] = (render_job){w, p, ps->hour, gain, {sun[0], sun[1], sun[2]}, W, H, gw, gh, ge, gn, rgb, f,
                               q * H / 2, (q + 1) * H / 2};
      }
      threaded = pthread_create(&th, NULL, render_rows, &jobs[1]) == 0;
      render_rows(&jobs[0]);
      if (threaded)
        pthread_join(th, NULL);
      else
        render_rows(&jobs[1]);
    }
    /* the KLV: the true frame centre and corners; the pose as the stale, noisy, biased INS says */
    {
      vg_geo_llh hit;
      double range;
      static const double cu[4] = {0, 1, 1, 0}, cv[4] = {0, 0, 1, 1};
      k.has_fc = vg_geo_camera_ground(&cam, &g, 0.5 * W, 0.5 * H, &hit, &range) == VG_OK;
      if (k.has_fc) {
        k.fc_lat = hit.lat;
        k.fc_lon = hit.lon;
        k.fc_msl = hit.h - vg_geo_geoid_n(geoid, hit.lat, hit.lon);
        k.slant = range;
        for (int c = 0; c < 4 && k.has_fc; c++) {
          k.has_fc = vg_geo_camera_ground(&cam, &g, cu[c] * W, cv[c] * H, &hit, NULL) == VG_OK;
          k.c_lat[c] = hit.lat;
          k.c_lon[c] = hit.lon;
        }
      }
      {
        vg_geo_llh l, r;
        if (vg_geo_camera_ground(&cam, &g, 0, 0.5 * H, &l, NULL) == VG_OK &&
            vg_geo_camera_ground(&cam, &g, W, 0.5 * H, &r, NULL) == VG_OK)
          k.width = vg_geo_distance(&l, &r);
      }
      true_view(sc, &pth, alt_msl, geoid, t - ps->latency_s, &vr);
      {
        double de = sc->pos_noise_m * sim_rng_normal(&rng), dn = sc->pos_noise_m * sim_rng_normal(&rng);
        double dh = sc->pos_noise_m * 1.5 * sim_rng_normal(&rng);
        k.lat = vr.pos.lat + dn / (SIM_R_EARTH * SIM_DEG);
        k.lon = vr.pos.lon + de / (SIM_R_EARTH * SIM_DEG * cos(vr.pos.lat * SIM_DEG));
        k.alt_msl = vr.pos.h - vg_geo_geoid_n(geoid, vr.pos.lat, vr.pos.lon) + dh;
      }
      k.heading = fmod(vr.heading + ps->att_bias_deg[0] + sc->att_noise_deg * sim_rng_normal(&rng) + 360.0, 360.0);
      k.pitch = vr.pitch + ps->att_bias_deg[1] + sc->att_noise_deg * sim_rng_normal(&rng);
      k.roll = vr.roll + ps->att_bias_deg[2] + sc->att_noise_deg * sim_rng_normal(&rng);
      /* the gimbal's own encoders: the angles as commanded (true) */
      k.rel[0] = vr.rel_az;
      k.rel[1] = vr.rel_el;
      k.rel[2] = vr.rel_roll;
      k.hfov = v.hfov;
      k.vfov = v.vfov;
      k.time_us = (uint64_t)llround(t0_day_us + t * 1e6);
      kb.len = 0;
      if (!k.has_fc)
        k.width = 0;
      if ((rc = encode_klv(sc, p, &k, &kb)) != VG_OK)
        break;
    }
    if ((rc = vg_fmv_writer_frame(wr, rgb, (size_t)W * 3, kb.data, kb.len)) != VG_OK)
      break;
    if (f % 16 == 0)
      fn ? fn(ud, "video", p, (double)f / (double)nframes) : (void)0;
  }
out:
  {
    int rc2 = vg_fmv_writer_close(wr);
    if (rc == VG_OK)
      rc = rc2;
  }
  if (fn && rc == VG_OK)
    fn(ud, "video", p, 1.0);
  vg_buf_free(&kb);
  free(ge);
  free(gn);
  free(rgb);
  vg_geo_geoid_free(geoid);
  return rc;
}
