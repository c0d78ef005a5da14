/*
 * Fuzz harness: the spectral-library parser and the resampler,
 * lib/detect/speclib.c (DESIGN.md convention 10; the format is
 * docs/formats/speclib.md).
 *
 * The whole input is one library file, parsed from memory by
 * vg__detect_speclib_from_mem. Checked (abort on failure):
 *  - on failure *out is untouched, the code is one the parser gives and the
 *    detail message names the file;
 *  - on success: 1..VG_SPECLIB_MAX_SPECTRA spectra, each with a non-empty
 *    name of at most VG_SPECLIB_MAX_NAME bytes, no two alike ignoring case, and
 *    vg_speclib_find(name) no later than its own index; every grid within
 *    VG_SPECLIB_MIN_WL_UM..MAX_WL_UM and strictly increasing; every value NaN or
 *    within +-VG_SPECLIB_MAX_ABS_VALUE; first/last are the first and last valid
 *    channels, at least 2 apart in count;
 *  - resampling (the first FUZZ_RESAMPLE spectra) to bands spread over the
 *    valid range gives VG_OK or VG_E_RANGE (a gap); with VG_OK every band is
 *    finite and within the range of the spectrum's valid values (a band is a
 *    convex combination of them); bands reaching past either end give
 *    VG_E_RANGE;
 *  - the same bytes with every LF turned into CR parse alike: the same code,
 *    and on success the same names and bit-identical grids and values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Spectra resampled per input, and bands per resampling. */
#define FUZZ_RESAMPLE 8
#define FUZZ_BANDS 16

static void fail(const char *what, size_t i)
{
  fprintf(stderr, "fuzz_detect_speclib: invariant broken: %s (spectrum %zu; %s)\n", what, i, vg_error_last());
  abort();
}

static int same_ci(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    int x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z')
      x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z')
      y += 'a' - 'A';
    if (x != y)
      return 0;
  }
  return *a == *b;
}

static void check_spectrum(const vg_speclib *l, size_t i)
{
  const vg__spectrum *s = &l->s[i];
  const char *name = vg_speclib_name(l, i);
  size_t nlen, nvalid = 0;
  long f;
  if (!name || name != s->name || !(nlen = strlen(name)) || nlen > VG_SPECLIB_MAX_NAME)
    fail("a spectrum without a proper name", i);
  f = vg_speclib_find(l, name);
  if (f < 0 || (size_t)f > i)
    fail("its own name is not found at or before it", i);
  for (size_t j = 0; j < i; j++)
    if (same_ci(l->s[j].name, name))
      fail("two spectra with the same name", i);
  if (s->nch < 2 || s->first >= s->last || s->last >= s->nch)
    fail("grid or valid range too short", i);
  for (size_t k = 0; k < s->nch; k++) {
    double w = s->wl[k], v = s->r[k];
    if (!(w >= VG_SPECLIB_MIN_WL_UM && w <= VG_SPECLIB_MAX_WL_UM) || (k && !(w > s->wl[k - 1])))
      fail("wavelength out of bounds or not increasing", i);
    if (!isnan(v)) {
      if (!(fabs(v) <= VG_SPECLIB_MAX_ABS_VALUE))
        fail("value out of bounds", i);
      if (k < s->first || k > s->last)
        fail("a valid channel outside first..last", i);
      nvalid++;
    }
  }
  if (nvalid < 2 || isnan(s->r[s->first]) || isnan(s->r[s->last]))
    fail("first/last not valid, or fewer than 2 valid channels", i);
}

static void check_resample(const vg_speclib *l, size_t i)
{
  const vg__spectrum *s = &l->s[i];
  double lo = s->wl[s->first], hi = s->wl[s->last], vmin = INFINITY, vmax = -INFINITY, wl[FUZZ_BANDS], slack;
  float out[FUZZ_BANDS];
  int rc;
  for (size_t k = s->first; k <= s->last; k++)
    if (!isnan(s->r[k])) {
      vmin = fmin(vmin, s->r[k]);
      vmax = fmax(vmax, s->r[k]);
    }
  slack = 1e-6 * fmax(fabs(vmin), fabs(vmax)) + 1e-30;
  for (int k = 0; k < FUZZ_BANDS; k++)
    wl[k] = lo + (hi - lo) * k / (FUZZ_BANDS - 1);
  wl[FUZZ_BANDS - 1] = hi;
  for (int k = 1; k < FUZZ_BANDS; k++)
    if (!(wl[k] > wl[k - 1]))
      return; /* a range too narrow for 16 distinct doubles */
  rc = vg_speclib_resample(l, i, wl, FUZZ_BANDS, out);
  if (rc != VG_OK && rc != VG_E_RANGE)
    fail("resampling inside the valid range neither worked nor found a gap", i);
  if (rc == VG_OK)
    for (int k = 0; k < FUZZ_BANDS; k++)
      if (!isfinite(out[k]) || (double)out[k] < vmin - slack || (double)out[k] > vmax + slack)
        fail("a band outside the range of the valid values", i);
  /* past either end */
  {
    double below[2] = {lo - (hi - lo) * 0.01 - 1e-9, lo}, above[2] = {hi, hi * 1.01 + 1e-9};
    if (below[0] > 0 && vg_speclib_resample(l, i, below, 2, out) != VG_E_RANGE)
      fail("a band below the valid range was accepted", i);
    if (vg_speclib_resample(l, i, above, 2, out) != VG_E_RANGE)
      fail("a band above the valid range was accepted", i);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int sentinel;
  vg_speclib *l = (vg_speclib *)&sentinel, *m = (vg_speclib *)&sentinel;
  uint8_t *cr = NULL;
  int rc, rc2;

  rc = vg__detect_speclib_from_mem(&l, data, size, "fuzz.csv");
  if (rc != VG_OK) {
    if (l != (vg_speclib *)&sentinel)
      fail("*out written on failure", 0);
    if (rc != VG_E_MALFORMED && rc != VG_E_TRUNCATED && rc != VG_E_LIMIT && rc != VG_E_UNSUPPORTED &&
        rc != VG_E_NOMEM)
      fail("an unexpected error code", 0);
    if (!strstr(vg_error_last(), "fuzz.csv"))
      fail("the error does not name the file", 0);
  } else {
    size_t n = vg_speclib_count(l);
    if (!l || l == (vg_speclib *)&sentinel || n < 1 || n > VG_SPECLIB_MAX_SPECTRA)
      fail("success without spectra", n);
    if (vg_speclib_name(l, n) != NULL)
      fail("a name past the end", n);
    for (size_t i = 0; i < n; i++)
      check_spectrum(l, i);
    for (size_t i = 0; i < n && i < FUZZ_RESAMPLE; i++)
      check_resample(l, i);
  }

  /* every LF as CR: the same library */
  if (size && (cr = malloc(size)) != NULL) {
    for (size_t i = 0; i < size; i++)
      cr[i] = data[i] == '\n' ? '\r' : data[i];
    rc2 = vg__detect_speclib_from_mem(&m, cr, size, "fuzz.csv");
    if (rc2 != rc)
      fail("CR line ends parse differently from LF", 0);
    if (rc == VG_OK) {
      if (vg_speclib_count(m) != vg_speclib_count(l))
        fail("CR line ends give another count", 0);
      for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->s[i].name, m->s[i].name) || l->s[i].nch != m->s[i].nch ||
            memcmp(l->s[i].wl, m->s[i].wl, l->s[i].nch * sizeof(double)) ||
            memcmp(l->s[i].r, m->s[i].r, l->s[i].nch * sizeof(double)))
          fail("CR line ends give another spectrum", i);
      vg_speclib_free(m);
    }
    free(cr);
  }
  if (rc == VG_OK)
    vg_speclib_free(l);
  return 0;
}
