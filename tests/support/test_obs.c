/* The observation of the marked-sites fixtures (test_obs.h). */
#include <stdio.h>
#include <string.h>

#include "test_obs.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8

const char *const vg_test_markings[8][2] = {
  {"UNCLASSIFIED//REL TO USA, MEX", NULL},
  {"UNCLASSIFIED//REL TO USA, MEX", "CONFIDENTIAL//REL TO USA, MEX"},
  {"UNCLASSIFIED//REL TO USA, GBR", NULL},
  {"SECRET//NOFORN", NULL},
  {"", NULL},
  {"UNCLASSIFIED//REL TO USA, MEX", ""},
  {"UNCLASSIFIED//REL TO USA, GBR, MEX", "UNCLASSIFIED//REL TO USA, MEX"},
  {"UNCLASSIFIED//REL TO USA, MEX", NULL},
};

vg_obs vg_test_obs(const char *flight_prefix, int site, int k, const char *marking)
{
  vg_obs o;
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "%.40s-%d", flight_prefix, k); /* one pass per observation */
  snprintf(o.detector, sizeof o.detector, "%s", vg_evidence_name(k ? VG_EVID_THERMAL : VG_EVID_SPECTRAL));
  o.frame = site;
  o.kind = k ? VG_EVID_THERMAL : VG_EVID_SPECTRAL;
  o.time_us = 1780300800000000LL + site * 60000000LL + k * 1000000LL;
  o.lat = 17.85 + site * 1000.0 / (R_EARTH * DEG);
  o.lon = -99.95;
  o.hae = 950;
  o.cov_en[0] = o.cov_en[3] = 16;
  o.sigma_up = 5;
  o.score = 1;
  o.marking = marking;
  return o;
}
