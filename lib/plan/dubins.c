/*
 * Dubins paths: the shortest curves of bounded curvature between two poses (Dubins 1957),
 * one of six words of at most three segments (L, R: arcs of radius R; S: straight). The
 * closed forms per word are those of Shkel and Lumelsky (2001), in the normalised frame
 * where the start is at the origin, the goal at (d, 0) and lengths are in units of R.
 *
 * vigia's headings are clockwise from north (x east, y north); the words are worked with
 * the mathematical angle th = pi/2 - hdg (counter-clockwise from east), where a left turn
 * (L) is counter-clockwise.
 */
#include <math.h>

#include "plan_int.h"

static double mod2pi(double a)
{
  double r = fmod(a, 2 * M_PI);
  return r < 0 ? r + 2 * M_PI : r;
}

/* Segment lengths (in units of R) of word @p w for normalised (alpha, beta, d); -1 when the
 * word does not exist for them. */
static int word(vg_plan_dubins_word w, double al, double be, double d, double out[3])
{
  double sa = sin(al), sb = sin(be), ca = cos(al), cb = cos(be), cab = cos(al - be), p2, t, p, q, tmp;
  switch (w) {
  case VG_DUBINS_LSL:
    p2 = 2 + d * d - 2 * cab + 2 * d * (sa - sb);
    if (p2 < 0)
      return -1;
    tmp = atan2(cb - ca, d + sa - sb);
    t = mod2pi(-al + tmp);
    p = sqrt(p2);
    q = mod2pi(be - tmp);
    break;
  case VG_DUBINS_RSR:
    p2 = 2 + d * d - 2 * cab + 2 * d * (sb - sa);
    if (p2 < 0)
      return -1;
    tmp = atan2(ca - cb, d - sa + sb);
    t = mod2pi(al - tmp);
    p = sqrt(p2);
    q = mod2pi(-be + tmp);
    break;
  case VG_DUBINS_LSR:
    p2 = -2 + d * d + 2 * cab + 2 * d * (sa + sb);
    if (p2 < 0)
      return -1;
    p = sqrt(p2);
    tmp = atan2(-ca - cb, d + sa + sb) - atan2(-2.0, p);
    t = mod2pi(-al + tmp);
    q = mod2pi(-mod2pi(be) + tmp);
    break;
  case VG_DUBINS_RSL:
    p2 = -2 + d * d + 2 * cab - 2 * d * (sa + sb);
    if (p2 < 0)
      return -1;
    p = sqrt(p2);
    tmp = atan2(ca + cb, d - sa - sb) - atan2(2.0, p);
    t = mod2pi(al - tmp);
    q = mod2pi(be - tmp);
    break;
  case VG_DUBINS_RLR:
    tmp = (6 - d * d + 2 * cab + 2 * d * (sa - sb)) / 8;
    if (fabs(tmp) > 1)
      return -1;
    p = mod2pi(2 * M_PI - acos(tmp));
    t = mod2pi(al - atan2(ca - cb, d - sa + sb) + p / 2);
    q = mod2pi(al - be - t + p);
    break;
  case VG_DUBINS_LRL:
    tmp = (6 - d * d + 2 * cab + 2 * d * (sb - sa)) / 8;
    if (fabs(tmp) > 1)
      return -1;
    p = mod2pi(2 * M_PI - acos(tmp));
    t = mod2pi(-al - atan2(ca - cb, d + sa - sb) + p / 2);
    q = mod2pi(mod2pi(be) - al - t + p);
    break;
  default:
    return -1;
  }
  out[0] = t;
  out[1] = p;
  out[2] = q;
  return 0;
}

int vg_plan_dubins_word_path(const vg_plan_pose *a, const vg_plan_pose *b, double R, vg_plan_dubins_word w,
                             vg_plan_dubins *out)
{
  double dx, dy, D, th, al, be, sg[3];
  if (!(R > 0) || !isfinite(R) || (int)w < VG_DUBINS_LSL || (int)w > VG_DUBINS_LRL)
    return vg_error_set(VG_E_INVALID, "dubins: radius %g, word %d", R, (int)w);
  dx = b->x - a->x;
  dy = b->y - a->y;
  D = hypot(dx, dy);
  th = D > 0 ? atan2(dy, dx) : 0;
  al = mod2pi((M_PI / 2 - a->hdg) - th);
  be = mod2pi((M_PI / 2 - b->hdg) - th);
  if (word(w, al, be, D / R, sg))
    return vg_error_set(VG_E_NOTFOUND, "dubins: word %d does not join the poses", (int)w);
  out->a = *a;
  out->R = R;
  out->word = w;
  for (int i = 0; i < 3; i++)
    out->seg[i] = sg[i] * R;
  out->length = out->seg[0] + out->seg[1] + out->seg[2];
  return VG_OK;
}

int vg_plan_dubins_shortest(const vg_plan_pose *a, const vg_plan_pose *b, double R, vg_plan_dubins *out)
{
  double dx, dy, D, d, th, al, be, best = INFINITY;
  if (!(R > 0) || !isfinite(R) || !isfinite(a->x) || !isfinite(a->y) || !isfinite(a->hdg) || !isfinite(b->x) ||
      !isfinite(b->y) || !isfinite(b->hdg))
    return vg_error_set(VG_E_INVALID, "dubins: radius %g and poses must be finite (radius > 0)", R);
  dx = b->x - a->x;
  dy = b->y - a->y;
  D = hypot(dx, dy);
  d = D / R;
  th = D > 0 ? atan2(dy, dx) : 0;
  al = mod2pi((M_PI / 2 - a->hdg) - th);
  be = mod2pi((M_PI / 2 - b->hdg) - th);
  out->a = *a;
  out->R = R;
  for (int w = VG_DUBINS_LSL; w <= VG_DUBINS_LRL; w++) {
    double s[3], len;
    if (word((vg_plan_dubins_word)w, al, be, d, s))
      continue;
    len = (s[0] + s[1] + s[2]) * R;
    if (len < best) {
      best = len;
      out->word = (vg_plan_dubins_word)w;
      for (int i = 0; i < 3; i++)
        out->seg[i] = s[i] * R;
    }
  }
  if (!isfinite(best))
    return vg_error_set(VG_E_INVALID, "dubins: no word joins the poses"); /* not reached: LSL or RSR always */
  out->length = best;
  return VG_OK;
}

/* The segment types of each word: 'L', 'S' or 'R'. */
static const char k_types[6][3] = {{'L', 'S', 'L'}, {'L', 'S', 'R'}, {'R', 'S', 'L'},
                                   {'R', 'S', 'R'}, {'R', 'L', 'R'}, {'L', 'R', 'L'}};

vg_plan_pose vg_plan_dubins_at(const vg_plan_dubins *d, double s)
{
  double x = d->a.x, y = d->a.y, th = M_PI / 2 - d->a.hdg, R = d->R;
  vg_plan_pose p;
  if (s < 0)
    s = 0;
  for (int i = 0; i < 3 && s > 0; i++) {
    double l = s < d->seg[i] ? s : d->seg[i];
    char ty = k_types[d->word][i];
    if (ty == 'S') {
      x += l * cos(th);
      y += l * sin(th);
    } else if (ty == 'L') {
      double cx = x - R * sin(th), cy = y + R * cos(th);
      th += l / R;
      x = cx + R * sin(th);
      y = cy - R * cos(th);
    } else {
      double cx = x + R * sin(th), cy = y - R * cos(th);
      th -= l / R;
      x = cx - R * sin(th);
      y = cy + R * cos(th);
    }
    s -= l;
  }
  p.x = x;
  p.y = y;
  p.hdg = mod2pi(M_PI / 2 - th);
  return p;
}

double vg_plan_uturn_length(double d, double R)
{
  d = fabs(d);
  if (d >= 2 * R)
    return M_PI * R + d - 2 * R;
  return R * (M_PI + 4 * acos((d + 2 * R) / (4 * R)));
}

double vg_plan_turn_radius(const vg_plan_aircraft *a)
{
  double v = a->airspeed_mps + (a->wind_mps > 0 ? a->wind_mps : 0);
  return v * v / (VG_PLAN_G * tan(a->bank_deg * M_PI / 180));
}
