/*
 * The pose record: the fields of a metadata packet that place the sensor and
 * its footprint, in natural units, from ST 0601 or from EG 0104 (whose items
 * carry the ST 0601 tag numbers of the same meaning, see eg0104.c).
 * EG 0104 also gives the line of sight against north and the horizon
 * (pseudo-tags 1001-1003), kept apart from the relative angles.
 * Precedence: full-range items over short ones (90/91 over 6/7), ellipsoid
 * heights (75, 104, 78) kept apart from MSL ones (15, 25); full corners
 * (82-89) over offset corners (26-33). Specials and out-of-range codes leave
 * a field absent.
 */
#include <string.h>

#include "klv_int.h"

/* The items of a packet by tag, first occurrence (as vg_klv_find): one pass
 * over the set instead of a search per field (a full ST 0601 packet has 140
 * items and the record reads about 40 of them). Tags 1..POSE_TAGS-1 are
 * direct; EG 0104's pseudo-tags 1001-1003 sit after them. */
#define POSE_TAGS 128
#define POSE_SLOTS (POSE_TAGS + 3)

typedef struct {
  const vg_klv_item *at[POSE_SLOTS];
} pose_index;

static int slot_of(uint32_t tag)
{
  if (tag < POSE_TAGS)
    return (int)tag;
  if (tag >= 1001 && tag <= 1003)
    return POSE_TAGS + (int)(tag - 1001);
  return -1;
}

static void index_set(pose_index *x, const vg_klv_set *s)
{
  memset(x, 0, sizeof *x);
  for (size_t i = 0; i < s->n; i++) {
    int k = slot_of(s->items[i].tag);
    if (k >= 0 && !x->at[k])
      x->at[k] = &s->items[i];
  }
}

static const vg_klv_item *find(const pose_index *x, uint32_t tag)
{
  int k = slot_of(tag);
  return k >= 0 ? x->at[k] : NULL;
}

static int get(const pose_index *x, uint32_t tag, double *v)
{
  const vg_klv_item *it = find(x, tag);
  return it && vg__klv_item_real(it, v) == VG_OK;
}

static void put(vg_klv_pose *p, vg_klv_pose_field f, double *dst, const pose_index *s,
                uint32_t tag, uint32_t alt_tag)
{
  if ((alt_tag && get(s, alt_tag, dst)) || get(s, tag, dst))
    p->present |= 1u << f;
}

int vg_klv_pose_from_packet(vg_klv_pose *out, const vg_klv_packet *pkt)
{
  pose_index x, *s = &x;
  vg_klv_pose p;
  const vg_klv_item *it;
  double v[8];
  int i, ok;

  if (pkt->kind != VG_KLV_KIND_ST0601 && pkt->kind != VG_KLV_KIND_EG0104)
    return vg_error_set(VG_E_UNSUPPORTED, "%s packets carry no sensor pose",
                        vg_klv_kind_name(pkt->kind));
  index_set(&x, &pkt->set);
  memset(&p, 0, sizeof p);
  p.source = pkt->kind;
  p.ls_version = pkt->version;
  if ((it = find(s, 2)) && it->type == VG_KLV_T_TIME) {
    p.time_us = it->v.u;
    p.present |= 1u << VG_POSE_TIME;
  }
  put(&p, VG_POSE_PLATFORM_HEADING, &p.platform_heading, s, 5, 0);
  put(&p, VG_POSE_PLATFORM_PITCH, &p.platform_pitch, s, 6, 90);
  put(&p, VG_POSE_PLATFORM_ROLL, &p.platform_roll, s, 7, 91);
  put(&p, VG_POSE_SENSOR_LAT, &p.sensor_lat, s, 13, 0);
  put(&p, VG_POSE_SENSOR_LON, &p.sensor_lon, s, 14, 0);
  put(&p, VG_POSE_SENSOR_ALT_MSL, &p.sensor_alt_msl, s, 15, 0);
  put(&p, VG_POSE_SENSOR_ALT_HAE, &p.sensor_alt_hae, s, 75, 104);
  put(&p, VG_POSE_HFOV, &p.hfov, s, 16, 0);
  put(&p, VG_POSE_VFOV, &p.vfov, s, 17, 0);
  put(&p, VG_POSE_SENSOR_REL_AZ, &p.sensor_rel_az, s, 18, 0);
  put(&p, VG_POSE_SENSOR_REL_EL, &p.sensor_rel_el, s, 19, 0);
  put(&p, VG_POSE_SENSOR_REL_ROLL, &p.sensor_rel_roll, s, 20, 0);
  put(&p, VG_POSE_SLANT_RANGE, &p.slant_range, s, 21, 0);
  put(&p, VG_POSE_TARGET_WIDTH, &p.target_width, s, 22, 96);
  put(&p, VG_POSE_FRAME_CENTER_LAT, &p.frame_center_lat, s, 23, 0);
  put(&p, VG_POSE_FRAME_CENTER_LON, &p.frame_center_lon, s, 24, 0);
  put(&p, VG_POSE_FRAME_CENTER_ELEV_MSL, &p.frame_center_elev_msl, s, 25, 0);
  put(&p, VG_POSE_FRAME_CENTER_HAE, &p.frame_center_hae, s, 78, 0);
  if (pkt->kind == VG_KLV_KIND_EG0104) { /* earth-referenced pointing (eg0104.c pseudo-tags) */
    put(&p, VG_POSE_SENSOR_ABS_AZ, &p.sensor_abs_az, s, 1002, 0);
    put(&p, VG_POSE_SENSOR_ABS_EL, &p.sensor_abs_el, s, 1003, 0);
    put(&p, VG_POSE_SENSOR_ABS_ROLL, &p.sensor_abs_roll, s, 1001, 0);
  }

  for (i = 0, ok = 1; i < 8 && ok; i++)
    ok = get(s, (uint32_t)(82 + i), &v[i]);
  if (ok) {
    for (i = 0; i < 4; i++) {
      p.corner_lat[i] = v[2 * i];
      p.corner_lon[i] = v[2 * i + 1];
    }
    p.corners_full = 1;
    p.present |= 1u << VG_POSE_CORNERS;
  } else if (vg_klv_pose_has(&p, VG_POSE_FRAME_CENTER_LAT) &&
             vg_klv_pose_has(&p, VG_POSE_FRAME_CENTER_LON)) {
    for (i = 0, ok = 1; i < 8 && ok; i++)
      ok = get(s, (uint32_t)(26 + i), &v[i]);
    if (ok) {
      for (i = 0; i < 4; i++) {
        p.corner_lat[i] = p.frame_center_lat + v[2 * i];
        p.corner_lon[i] = p.frame_center_lon + v[2 * i + 1];
      }
      p.present |= 1u << VG_POSE_CORNERS;
    }
  }
  if ((it = find(s, 48)) && it->type == VG_KLV_T_SET && it->child) {
    const vg_klv_item *c;
    if ((c = vg_klv_find(it->child, 1)) && c->type == VG_KLV_T_UINT && c->v.u <= 255)
      p.security_class = (uint8_t)c->v.u;
    if ((c = vg_klv_find(it->child, 2)) && c->type == VG_KLV_T_UINT && c->v.u <= 255)
      p.security_method = (uint8_t)c->v.u;
    if ((c = vg_klv_find(it->child, 6)) && c->type == VG_KLV_T_STRING) {
      size_t n = c->v.s.n < sizeof p.security_rel - 1 ? c->v.s.n : sizeof p.security_rel - 1;
      memcpy(p.security_rel, c->v.s.p, n);
      p.security_rel[n] = 0;
    }
    if ((c = vg_klv_find(it->child, 5)) && c->type == VG_KLV_T_STRING) {
      size_t n = c->v.s.n < sizeof p.security_caveats - 1 ? c->v.s.n : sizeof p.security_caveats - 1;
      memcpy(p.security_caveats, c->v.s.p, n);
      p.security_caveats[n] = 0;
    }
    p.present |= 1u << VG_POSE_SECURITY;
  }
  if ((it = find(s, 10)) && it->type == VG_KLV_T_STRING) {
    size_t n = it->v.s.n < sizeof p.platform_designation - 1 ? it->v.s.n
                                                             : sizeof p.platform_designation - 1;
    memcpy(p.platform_designation, it->v.s.p, n);
    p.platform_designation[n] = 0;
    p.present |= 1u << VG_POSE_PLATFORM_DESIGNATION;
  }
  *out = p;
  return VG_OK;
}
