/* Internals of lib/detect shared between its files, its unit tests and its fuzz harness. */
#ifndef VG_DETECT_INT_H
#define VG_DETECT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "vigia/detect.h"

/*
 * Limits of the spectral-library reader (docs/formats/speclib.md, "Limits").
 * Sizes: a USGS splib07a ASD spectrum is 2151 channels in about 60 KB of CSV;
 * the whole splib07a release holds about 2,500 spectra, which at ASD
 * resolution is 5.4 M values, so every limit below leaves that whole release
 * room while bounding what a hostile file can make us allocate.
 */
/** Bytes of one library file (a 2151 x 4096 multi-spectrum CSV is about 60 MB). */
#define VG_SPECLIB_MAX_FILE_BYTES ((size_t)64 << 20)
/** Bytes read for one library in all (a directory or an index of many files). */
#define VG_SPECLIB_MAX_LIBRARY_BYTES ((size_t)256 << 20)
/** Spectra in one library (so also spectrum columns in one file). */
#define VG_SPECLIB_MAX_SPECTRA 4096
/** Channels (data rows) of one file: splib07a's finest grid, Nicolet FTIR, has fewer. */
#define VG_SPECLIB_MAX_CHANNELS 65536
/** Channel values held by one library: 2^23 x 16 bytes (value + wavelength) = 128 MiB. */
#define VG_SPECLIB_MAX_VALUES ((size_t)1 << 23)
/** Bytes of one number field ("-1.2300000e+034" is 15). */
#define VG_SPECLIB_MAX_NUMBER 64
/** Bytes of a spectrum name (a header field, or a file's base name). */
#define VG_SPECLIB_MAX_NAME 255
/** Files listed by one index or found in one directory. */
#define VG_SPECLIB_MAX_FILES 4096
/** Bytes of a path in an index, and of a joined path (PATH_MAX on Linux). */
#define VG_SPECLIB_MAX_PATH 4096
/** Smallest wavelength (um): 1 nm, far below any reflectance spectrometer (splib07a starts at 0.2 um). */
#define VG_SPECLIB_MIN_WL_UM 0.001
/** Largest wavelength (um): splib07a's Nicolet FTIR reaches 216 um; 1000 um ends the far infrared. */
#define VG_SPECLIB_MAX_WL_UM 1000.0
/** Values at or below this are deleted channels: the USGS marker is -1.23e34 (DS 1035). */
#define VG_SPECLIB_DELETED (-1.0e33)
/** Largest magnitude of a kept value (anything past it is not a reflectance). */
#define VG_SPECLIB_MAX_ABS_VALUE 1.0e33
/** A resampled band needs this fraction of its Gaussian response on valid channels. */
#define VG_SPECLIB_MIN_COVER 0.4
/** The band response is integrated over segments within this many sigma of its centre. */
#define VG_SPECLIB_GAUSS_CUT 8.0

/** One spectrum: its own channel grid; deleted channels are NAN. */
typedef struct vg__spectrum {
  char *name;          /* NUL-terminated UTF-8, at most VG_SPECLIB_MAX_NAME bytes */
  size_t nch;          /* channels, >= 2 */
  double *wl;          /* nch wavelengths (um), MIN_WL..MAX_WL, strictly increasing */
  double *r;           /* nch values, NAN where deleted */
  size_t first, last;  /* first and last valid channel (first < last) */
} vg__spectrum;

struct vg_speclib {
  size_t n, cap;       /* spectra held, allocated */
  vg__spectrum *s;
  size_t values;       /* sum of nch (against VG_SPECLIB_MAX_VALUES) */
};

/**
 * Parses one library file held in memory (a USGS single-spectrum CSV or a
 * multi-spectrum CSV; an index cannot be resolved from memory and gives
 * VG_E_UNSUPPORTED). @p name is the file's path or name: it names a
 * single-spectrum file's spectrum (its base name without ".csv") and the
 * error messages. @p *out (the caller's) is left untouched on failure.
 */
int vg__detect_speclib_from_mem(vg_speclib **out, const uint8_t *buf, size_t len, const char *name);

#endif
