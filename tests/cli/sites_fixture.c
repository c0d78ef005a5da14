/*
 * Makes the register that tests/cli/test_cli_sites.cmake reads with `vigia sites`
 * (there is no ingest subcommand: the register is filled through the public API).
 *
 *   sites_fixture REGISTER
 *
 * Site 1: two thermal detections near 35.0 N, 45.0 E (fused: nobs 2) at 2024-05-01T12:00:00Z
 *         and +1 s, covariance diag(16, 16) m^2 each (fused: diag(8, 8), sigma 2.83 m).
 * Site 2: one spectral detection 500 m north of it.
 * Site 3: one anomaly detection 2 km east of it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vigia/sites.h"

#define DEG (3.14159265358979323846 / 180.0)
#define R_EARTH 6371008.8

static vg_obs mk(int frame, int seq, vg_evidence k, double de, double dn)
{
  vg_obs o;
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "cli-flight");
  snprintf(o.detector, sizeof o.detector, "%s", vg_evidence_name(k));
  o.frame = frame;
  o.seq = seq;
  o.kind = k;
  o.time_us = 1714564800000000LL + frame * 1000000LL; /* 2024-05-01T12:00:00Z */
  o.lat = 35.0 + dn / (R_EARTH * DEG);
  o.lon = 45.0 + de / (R_EARTH * DEG * cos(35.0 * DEG));
  o.hae = 800;
  o.cov_en[0] = o.cov_en[3] = 16;
  o.sigma_up = 5;
  o.score = 12.5;
  o.r1 = o.c1 = 4;
  return o;
}

int main(int argc, char **argv)
{
  vg_register *r = NULL;
  vg_obs o[4];
  int rc;
  if (argc != 2) {
    fprintf(stderr, "usage: sites_fixture REGISTER\n");
    return 2;
  }
  o[0] = mk(0, 0, VG_EVID_THERMAL, 0, 0);
  o[1] = mk(1, 0, VG_EVID_THERMAL, 0, 0);
  snprintf(o[1].flight, sizeof o[1].flight, "cli-flight-2"); /* a second pass: its position fuses */
  o[2] = mk(1, 1, VG_EVID_SPECTRAL, 0, 500);
  o[3] = mk(1, 2, VG_EVID_ANOMALY, 2000, 0);
  if ((rc = vg_register_open(&r, argv[1])) != VG_OK || (rc = vg_register_ingest(r, o, 4, NULL, NULL)) != VG_OK) {
    fprintf(stderr, "sites_fixture: %s: %s\n", vg_err_name(rc), vg_error_last());
    vg_register_close(r);
    return 1;
  }
  vg_register_close(r);
  return 0;
}
