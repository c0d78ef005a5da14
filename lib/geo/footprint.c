/*
 * Frame footprints: the image border and centre put on the ground, written as
 * GeoJSON (RFC 7946) or KML 2.2 for a look at a flight.
 *
 * The border is sampled VG_GEO_FP_EDGE times per edge, so a footprint draped
 * on a DEM or cut by the horizon (oblique views whose top edge sees the sky)
 * keeps the part that reaches the ground.
 */
#include <math.h>
#include <string.h>

#include "geo_int.h"

int vg_geo_footprint_compute(const vg_geo_view *v, const vg_geo_ground *g, const vg_geo_sigmas *s,
                             const vg_geo_geoid *geoid, vg_geo_footprint *out)
{
  vg_geo_camera c;
  vg_geo_footprint fp;
  int rc;
  /* edges from each corner, clockwise in the image: top, right, bottom, left */
  const double W = v->width, H = v->height;
  const double cu[4] = {0, W, W, 0}, cv[4] = {0, 0, H, H};

  memset(&fp, 0, sizeof fp);
  if ((rc = vg_geo_camera_init(&c, v)) != VG_OK)
    return rc;
  fp.sensor = v->pos;
  fp.have_centre = vg_geo_locate(v, g, s, geoid, 0.5 * W, 0.5 * H, &fp.centre) == VG_OK;
  for (int e = 0; e < 4; e++) {
    int f = (e + 1) % 4;
    for (int k = 0; k < VG_GEO_FP_EDGE; k++) {
      double t = (double)k / VG_GEO_FP_EDGE;
      double u = cu[e] + t * (cu[f] - cu[e]), vv = cv[e] + t * (cv[f] - cv[e]);
      vg_geo_llh hit;
      if (vg_geo_camera_ground(&c, g, u, vv, &hit, NULL) != VG_OK)
        continue;
      fp.outline[fp.n++] = hit;
      if (k == 0) {
        fp.corner_ok[e] = 1;
        fp.corner[e] = hit;
      }
    }
  }
  *out = fp;
  if (!fp.have_centre && fp.n == 0)
    return vg_error_set(VG_E_NOHIT, "no part of the frame reaches the ground");
  return VG_OK;
}

/* Twice the signed area of the outline in lon/lat (counter-clockwise > 0). */
static double ring_area2(const vg_geo_footprint *f)
{
  double a = 0;
  for (int i = 0; i < f->n; i++) {
    const vg_geo_llh *p = &f->outline[i], *q = &f->outline[(i + 1) % f->n];
    a += p->lon * q->lat - q->lon * p->lat;
  }
  return a;
}

static void jw_pos(vg_jw *w, const vg_geo_llh *p)
{
  vg_jw_arr_begin(w);
  vg_jw_real(w, round(p->lon * 1e8) / 1e8);
  vg_jw_real(w, round(p->lat * 1e8) / 1e8);
  vg_jw_real(w, round(p->h * 1e3) / 1e3);
  vg_jw_arr_end(w);
}

static void jw_feature_begin(vg_jw *w, const char *type)
{
  vg_jw_obj_begin(w);
  vg_jw_key(w, "type");
  vg_jw_str(w, "Feature");
  vg_jw_key(w, "geometry");
  vg_jw_obj_begin(w);
  vg_jw_key(w, "type");
  vg_jw_str(w, type);
  vg_jw_key(w, "coordinates");
}

int vg_geo_footprints_geojson(vg_buf *out, const vg_geo_footprint *fp, size_t n, const char *title)
{
  vg_jw w;
  vg_jw_init(&w, out, 0);
  vg_jw_obj_begin(&w);
  vg_jw_key(&w, "type");
  vg_jw_str(&w, "FeatureCollection");
  if (title) {
    vg_jw_key(&w, "name");
    vg_jw_str(&w, title);
  }
  vg_jw_key(&w, "features");
  vg_jw_arr_begin(&w);
  if (n >= 2) {
    jw_feature_begin(&w, "LineString");
    vg_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
      jw_pos(&w, &fp[i].sensor);
    vg_jw_arr_end(&w);
    vg_jw_obj_end(&w);
    vg_jw_key(&w, "properties");
    vg_jw_obj_begin(&w);
    vg_jw_key(&w, "kind");
    vg_jw_str(&w, "track");
    vg_jw_key(&w, "frames");
    vg_jw_uint(&w, n);
    vg_jw_obj_end(&w);
    vg_jw_obj_end(&w);
  }
  for (size_t i = 0; i < n; i++) {
    const vg_geo_footprint *f = &fp[i];
    if (f->n >= 3) {
      int ccw = ring_area2(f) >= 0;
      jw_feature_begin(&w, "Polygon");
      vg_jw_arr_begin(&w);
      vg_jw_arr_begin(&w);
      for (int k = 0; k <= f->n; k++)
        jw_pos(&w, &f->outline[ccw ? k % f->n : (f->n - k) % f->n]);
      vg_jw_arr_end(&w);
      vg_jw_arr_end(&w);
      vg_jw_obj_end(&w);
      vg_jw_key(&w, "properties");
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "kind");
      vg_jw_str(&w, "footprint");
      vg_jw_key(&w, "frame");
      vg_jw_int(&w, f->frame);
      vg_jw_key(&w, "time_s");
      vg_jw_real(&w, f->time_s);
      vg_jw_key(&w, "complete");
      vg_jw_bool(&w, f->n == 4 * VG_GEO_FP_EDGE);
      vg_jw_obj_end(&w);
      vg_jw_obj_end(&w);
    }
    if (f->have_centre) {
      jw_feature_begin(&w, "Point");
      jw_pos(&w, &f->centre.llh);
      vg_jw_obj_end(&w);
      vg_jw_key(&w, "properties");
      vg_jw_obj_begin(&w);
      vg_jw_key(&w, "kind");
      vg_jw_str(&w, "centre");
      vg_jw_key(&w, "frame");
      vg_jw_int(&w, f->frame);
      vg_jw_key(&w, "time_s");
      vg_jw_real(&w, f->time_s);
      vg_jw_key(&w, "slant_range_m");
      vg_jw_real(&w, round(f->centre.range * 100) / 100);
      vg_jw_key(&w, "ce90_m");
      if (isfinite(f->centre.ce90))
        vg_jw_real(&w, round(f->centre.ce90 * 100) / 100);
      else
        vg_jw_null(&w);
      vg_jw_key(&w, "le90_m");
      if (isfinite(f->centre.le90))
        vg_jw_real(&w, round(f->centre.le90 * 100) / 100);
      else
        vg_jw_null(&w);
      vg_jw_obj_end(&w);
      vg_jw_obj_end(&w);
    }
  }
  vg_jw_arr_end(&w);
  vg_jw_obj_end(&w);
  return vg_jw_finish(&w);
}

static void kml_esc(vg_buf *o, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<': vg_buf_printf(o, "&lt;"); break;
    case '>': vg_buf_printf(o, "&gt;"); break;
    case '&': vg_buf_printf(o, "&amp;"); break;
    case '"': vg_buf_printf(o, "&quot;"); break;
    default: vg_buf_putc(o, (uint8_t)*s);
    }
  }
}

static void kml_pos(vg_buf *o, const vg_geo_llh *p, const vg_geo_geoid *g)
{
  double n = g ? vg_geo_geoid_n(g, p->lat, p->lon) : NAN;
  vg_buf_printf(o, "%.8f,%.8f,%.3f ", p->lon, p->lat, isnan(n) ? 0.0 : p->h - n);
}

int vg_geo_footprints_kml(vg_buf *o, const vg_geo_footprint *fp, size_t n, const char *title,
                          const vg_geo_geoid *geoid)
{
  const char *mode = geoid ? "absolute" : "clampToGround";
  vg_buf_printf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>");
  kml_esc(o, title ? title : "vigia footprints");
  vg_buf_printf(o, "</name>\n"
                   "<Style id=\"fp\"><LineStyle><color>ff00ffff</color><width>1</width></LineStyle>"
                   "<PolyStyle><color>3300ffff</color></PolyStyle></Style>\n"
                   "<Style id=\"track\"><LineStyle><color>ff0000ff</color><width>2</width></LineStyle></Style>\n");
  if (n >= 2) {
    vg_buf_printf(o, "<Placemark><name>track</name><styleUrl>#track</styleUrl><LineString>"
                     "<altitudeMode>%s</altitudeMode><coordinates>", geoid ? "absolute" : "clampToGround");
    for (size_t i = 0; i < n; i++)
      kml_pos(o, &fp[i].sensor, geoid);
    vg_buf_printf(o, "</coordinates></LineString></Placemark>\n");
  }
  for (size_t i = 0; i < n; i++) {
    const vg_geo_footprint *f = &fp[i];
    if (f->n >= 3) {
      vg_buf_printf(o, "<Placemark><name>frame %lld</name><styleUrl>#fp</styleUrl><Polygon>"
                       "<altitudeMode>%s</altitudeMode><outerBoundaryIs><LinearRing><coordinates>",
                    (long long)f->frame, mode);
      for (int k = 0; k <= f->n; k++)
        kml_pos(o, &f->outline[k % f->n], geoid);
      vg_buf_printf(o, "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>\n");
    }
    if (f->have_centre) {
      vg_buf_printf(o, "<Placemark><name>centre %lld</name><description>t %.3f s, CE90 %.1f m, "
                       "LE90 %.1f m</description><Point><altitudeMode>%s</altitudeMode><coordinates>",
                    (long long)f->frame, f->time_s, f->centre.ce90, f->centre.le90, mode);
      kml_pos(o, &f->centre.llh, geoid);
      vg_buf_printf(o, "</coordinates></Point></Placemark>\n");
    }
  }
  return vg_buf_printf(o, "</Document>\n</kml>\n");
}
