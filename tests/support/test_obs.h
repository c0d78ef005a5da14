/* One observation of the marked-sites fixtures (products, map page, sharing server): site
 * 1, 2, ... 1 km apart north of (17.85, -99.95), detection k (0 spectral, 1 thermal) in its own
 * flight "PREFIX-k", at 2026-06-01T08:00:00Z + site minutes + k seconds, 4 m sigma, carrying
 * @p marking (borrowed). (tests/support/test_obs.c) */
#ifndef VG_TEST_OBS_H
#define VG_TEST_OBS_H

#include "vigia/sites.h"

/* The markings of sites 1-8's observations (NULL: no second one), each site's derived marking:
 *   1 U REL USA,MEX   2 C REL USA,MEX   3 U REL USA,GBR   4 S NOFORN   5 unmarked
 *   6 unmarked (one unmarked source)    7 U REL USA,MEX   8 U REL USA,MEX */
extern const char *const vg_test_markings[8][2];

vg_obs vg_test_obs(const char *flight_prefix, int site, int k, const char *marking);

#endif
