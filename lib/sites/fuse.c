/*
 * Fusion of ground detections into sites (pure functions; register.c applies
 * them inside a store transaction).
 *
 * Position: a static site observed with independent Gaussian errors. On the
 * local tangent plane at the site, d = z - m (east, north metres),
 * S = P + R, gate d' S^-1 d <= gate (chi-square, 2 dof); the update is the
 * Kalman/information form of inverse-covariance weighting:
 *   m' = m + P S^-1 d,   P' = P - P S^-1 P  (= (P^-1 + R^-1)^-1).
 * Height: inverse-variance weighted mean.
 *
 * Confidence: log-odds L = log(p / (1 - p)) of "a real site is here".
 * Detections add their log-likelihood ratio log(P(det | site) / P(det | no
 * site)) per kind; a kind not seen before at the site adds `agree` on top
 * (independent physics agreeing: warm AND plastic AND new); a pass that
 * covered the site without detecting it adds log((1 - Pd) / (1 - Pfa)) < 0.
 *
 * What is independent evidence. Summing log-likelihood ratios is Bayes only
 * for conditionally independent observations. The frames of one flight are
 * not: a video pass sees the same roof under the same light with the same
 * detector dozens of times, so if the detector fires on it once it fires on
 * it in every frame, and if it misses it once it misses it throughout. The
 * unit of evidence is therefore the pass (the flight), per kind:
 *   - a kind adds hit[kind] (and agree, when new to the site) the first time
 *     a flight shows it at the site (vg_site.flight_kinds), never again in
 *     that flight; a second kind in the same flight is other physics and
 *     counts; the next flight counts again;
 *   - a flight that covers the site without detecting it adds one miss
 *     (vg_site.flight_missed), however many of its frames cover it; when a
 *     later frame of that flight detects the site after all (it was hidden,
 *     off-nadir, in shadow at first), the miss is taken back: the pass did
 *     see it, and a pass's detection and its miss exclude each other;
 *   - the position is different: each image has its own pose and so its own
 *     georeferencing error, and the frames of a pass are fused as before
 *     (a bias common to the whole pass, e.g. boresight misalignment, is
 *     outside this model); but two detectors on the same image (same flight
 *     and frame) share that image's error, and fusing the second as if
 *     independent would shrink the covariance for nothing. So the same
 *     image gives one position and one height (vg_site.frame: the frame of
 *     the site's flight last fused).
 * A site keeps the state of one flight only: the flight whose evidence last
 * reached it. Evidence of another flight switches it (flight_kinds 0,
 * flight_missed 0, frame VG_FUSE_NO_FRAME). With flights ingested one after
 * the other this is exact. Two flights ingested at once over the same site
 * (two workers) switch it back and forth; the consequence is at most
 * evidence counted again, positive or negative (a kind or a miss of a flight
 * counted twice, a miss not taken back), as before this rule, never evidence
 * lost; it is not worth a table of (site, flight) pairs. Likewise only the
 * last fused frame is remembered: detections of one image must reach a site
 * one after the other (a batch is a frame's detections, so they do).
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "sites_int.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8

static const char *const k_evid[VG_EVID__COUNT] = {"anomaly", "spectral", "thermal", "change"};
static const char *const k_state[] = {"candidate", "confirmed", "dismissed", "inactive"};

const char *vg_evidence_name(vg_evidence e)
{
  return (unsigned)e < VG_EVID__COUNT ? k_evid[e] : "?";
}

int vg_evidence_parse(const char *s, vg_evidence *e)
{
  for (int i = 0; i < VG_EVID__COUNT; i++)
    if (!strcasecmp(s, k_evid[i])) {
      *e = (vg_evidence)i;
      return VG_OK;
    }
  return vg_error_set(VG_E_INVALID, "unknown evidence kind '%s' (anomaly, spectral, thermal, change)", s);
}

const char *vg_site_state_name(vg_site_state s)
{
  return (unsigned)s <= VG_SITE_INACTIVE ? k_state[s] : "?";
}

/*
 * Defaults, each a likelihood ratio stated as the detection and false-alarm
 * rates it stands for (p = 1 / (1 + e^-L)):
 *   prior    -2.0   a new blob is a site 12% of the time before any evidence
 *   hit      anomaly +1.0 (Pd 0.5 / Pfa 0.18), spectral +2.0 (plastic or tarp
 *            signature: Pd 0.7 / Pfa 0.095), thermal +1.5, change +1.0
 *   agree    +1.0   a second independent kind at the same place
 *   miss     -0.7   log((1 - 0.5) / (1 - 0.0)): covered, Pd 0.5, not seen
 *   confirm  +3.0   p = 0.95;  inactive -3.0 (p = 0.05)
 *   gate     13.8   chi-square 2 dof at 0.999: a detection this far is
 *                   another site, not this one
 *   floor    1 m    fusion never claims a position better than a metre
 *   repeat   0.25   a kind that an earlier pass already showed at the site
 *                   adds a quarter of its weight: a persistent look-alike
 *                   (a roof, a rock) fires the same detector on every pass,
 *                   so P(det again | no site) is close to P(det again | site)
 *                   (docs/decisions/0006)
 */
void vg_fuse_params_default(vg_fuse_params *p)
{
  memset(p, 0, sizeof *p);
  p->gate = 13.8155;
  p->prior = -2.0;
  p->hit[VG_EVID_ANOMALY] = 1.0;
  p->hit[VG_EVID_SPECTRAL] = 2.0;
  p->hit[VG_EVID_THERMAL] = 1.5;
  p->hit[VG_EVID_CHANGE] = 1.0;
  p->agree = 1.0;
  p->miss = -0.7;
  p->confirm = 3.0;
  p->inactive = -3.0;
  p->lo_min = -10.0;
  p->lo_max = 10.0;
  p->floor_m = 1.0;
  p->repeat = 0.25;
}

double vg_fuse_prob(double lo)
{
  return 1.0 / (1.0 + exp(-lo));
}

void vg_fuse_en(double lat0, double lon0, double lat, double lon, double en[2])
{
  double dlon = lon - lon0;
  if (dlon > 180)
    dlon -= 360;
  else if (dlon < -180)
    dlon += 360;
  en[0] = dlon * DEG * R_EARTH * cos(lat0 * DEG);
  en[1] = (lat - lat0) * DEG * R_EARTH;
}

/* S^-1 of a symmetric 2x2; 0 when not positive definite. */
static int inv2(const double s[4], double out[4])
{
  double a = s[0], b = 0.5 * (s[1] + s[2]), d = s[3], det = a * d - b * b;
  if (!(a > 0) || !(det > 0) || !isfinite(det))
    return 0;
  out[0] = d / det;
  out[1] = out[2] = -b / det;
  out[3] = a / det;
  return 1;
}

int vg_fuse_distance(const vg_site *s, const vg_obs *o, double *d2)
{
  double en[2], S[4], Si[4];
  for (int i = 0; i < 4; i++)
    S[i] = s->cov_en[i] + o->cov_en[i];
  if (!inv2(S, Si))
    return vg_error_set(VG_E_RANGE, "site %lld and observation have no joint covariance",
                        (long long)s->id);
  vg_fuse_en(s->lat, s->lon, o->lat, o->lon, en);
  *d2 = en[0] * (Si[0] * en[0] + Si[1] * en[1]) + en[1] * (Si[2] * en[0] + Si[3] * en[1]);
  return VG_OK;
}

static void set_state(vg_site *s, const vg_fuse_params *p)
{
  if (s->state == VG_SITE_DISMISSED)
    return; /* an analyst's word sticks */
  if (s->state == VG_SITE_CONFIRMED && s->logodds >= p->inactive)
    return; /* confirmed stays confirmed until the evidence says it is gone */
  if (s->logodds >= p->confirm)
    s->state = VG_SITE_CONFIRMED;
  else if (s->logodds < p->inactive)
    s->state = VG_SITE_INACTIVE;
  else
    s->state = VG_SITE_CANDIDATE;
}

static double clamp(double x, const vg_fuse_params *p)
{
  return x < p->lo_min ? p->lo_min : x > p->lo_max ? p->lo_max : x;
}

static void floor_cov(double c[4], double f)
{
  double f2 = f * f;
  if (c[0] < f2)
    c[0] = f2;
  if (c[3] < f2)
    c[3] = f2;
}

/* The site's pass becomes @p flight (at most VG_SITES_NAME_MAX bytes) when it is another one. */
static void switch_flight(vg_site *s, const char *flight)
{
  size_t n = flight ? strnlen(flight, VG_SITES_NAME_MAX) : 0;
  if (strnlen(s->flight, VG_SITES_NAME_MAX) == n && (n == 0 || !memcmp(s->flight, flight, n)))
    return;
  if (n)
    memcpy(s->flight, flight, n);
  memset(s->flight + n, 0, sizeof s->flight - n);
  s->frame = VG_FUSE_NO_FRAME;
  s->flight_kinds = 0;
  s->flight_missed = 0;
}

void vg_fuse_init(vg_site *s, const vg_obs *o, const vg_fuse_params *p)
{
  memset(s, 0, sizeof *s);
  s->lat = o->lat;
  s->lon = o->lon;
  s->hae = o->hae;
  memcpy(s->cov_en, o->cov_en, sizeof s->cov_en);
  floor_cov(s->cov_en, p->floor_m);
  s->sigma_up = o->sigma_up;
  s->first_us = s->last_us = o->time_us;
  s->nobs = 1;
  s->kinds = 1u << o->kind;
  s->logodds = clamp(p->prior + p->hit[o->kind], p);
  switch_flight(s, o->flight);
  s->frame = o->frame;
  s->flight_kinds = 1u << o->kind;
  s->state = VG_SITE_CANDIDATE;
  set_state(s, p);
}

/* Position by inverse-covariance weighting, height by inverse variance. */
static void fuse_position(vg_site *s, const vg_obs *o, const vg_fuse_params *p)
{
  double en[2], S[4], Si[4], K[4], P[4];
  memcpy(P, s->cov_en, sizeof P);
  for (int i = 0; i < 4; i++)
    S[i] = P[i] + o->cov_en[i];
  if (inv2(S, Si)) {
    vg_fuse_en(s->lat, s->lon, o->lat, o->lon, en);
    /* K = P S^-1 */
    K[0] = P[0] * Si[0] + P[1] * Si[2];
    K[1] = P[0] * Si[1] + P[1] * Si[3];
    K[2] = P[2] * Si[0] + P[3] * Si[2];
    K[3] = P[2] * Si[1] + P[3] * Si[3];
    {
      /* the shift back to degrees at the latitude the offset was measured at */
      double de = K[0] * en[0] + K[1] * en[1], dn = K[2] * en[0] + K[3] * en[1];
      double c0 = cos(s->lat * DEG);
      s->lat += dn / (R_EARTH * DEG);
      s->lon += de / (R_EARTH * DEG * c0);
    }
    /* P' = P - K P, kept symmetric */
    {
      double n0 = P[0] - (K[0] * P[0] + K[1] * P[2]);
      double n1 = P[1] - (K[0] * P[1] + K[1] * P[3]);
      double n3 = P[3] - (K[2] * P[1] + K[3] * P[3]);
      s->cov_en[0] = n0;
      s->cov_en[1] = s->cov_en[2] = n1;
      s->cov_en[3] = n3;
    }
    floor_cov(s->cov_en, p->floor_m);
  }
  if (o->sigma_up > 0 && s->sigma_up > 0) {
    double w1 = 1.0 / (s->sigma_up * s->sigma_up), w2 = 1.0 / (o->sigma_up * o->sigma_up);
    s->hae = (w1 * s->hae + w2 * o->hae) / (w1 + w2);
    s->sigma_up = sqrt(1.0 / (w1 + w2));
  } else if (o->sigma_up > 0) { /* the first known height */
    s->hae = o->hae;
    s->sigma_up = o->sigma_up;
  }
}

void vg_fuse_update(vg_site *s, const vg_obs *o, const vg_fuse_params *p)
{
  uint32_t bit = 1u << o->kind;
  switch_flight(s, o->flight);
  /* one position per flight and kind, and none from an image that already gave one
   * (another detector on it): within a pass, detections of one kind share the pass's
   * systematic errors (pose bias, latency, georegistration), docs/decisions/0006 */
  if (!(s->flight_kinds & bit) && (s->frame == VG_FUSE_NO_FRAME || s->frame != o->frame)) {
    fuse_position(s, o, p);
    s->frame = o->frame;
  } else if (!(s->sigma_up > 0) && o->sigma_up > 0) {
    /* no position from this one, but the first height the site gets (rasters give none) */
    s->hae = o->hae;
    s->sigma_up = o->sigma_up;
  }
  /* a kind counts once per flight, fully the first time the site shows it and by
   * `repeat` in later flights; a detection takes back the flight's miss */
  if (!(s->flight_kinds & bit)) {
    if (s->kinds & bit)
      s->logodds += p->repeat * p->hit[o->kind];
    else
      s->logodds += p->hit[o->kind] + p->agree;
    s->flight_kinds |= bit;
  }
  if (s->flight_missed) {
    s->logodds -= p->miss;
    if (s->nmiss > 0)
      s->nmiss--;
    s->flight_missed = 0;
  }
  s->logodds = clamp(s->logodds, p);
  s->kinds |= bit;
  s->nobs++;
  if (o->time_us < s->first_us)
    s->first_us = o->time_us;
  if (o->time_us > s->last_us)
    s->last_us = o->time_us;
  set_state(s, p);
}

void vg_fuse_miss(vg_site *s, const char *flight, const vg_fuse_params *p)
{
  switch_flight(s, flight);
  if (s->flight_kinds || s->flight_missed)
    return; /* the pass detected it, or has already counted its miss */
  s->logodds = clamp(s->logodds + p->miss, p);
  s->nmiss++;
  s->flight_missed = 1;
  set_state(s, p);
}
