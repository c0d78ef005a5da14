/* Internals shared by the files of lib/fmv. */
#ifndef VG_FMV_INT_H
#define VG_FMV_INT_H

#include "vigia/fmv.h"

/* 33-bit PTS/DTS/PCR base clock. */
#define VG__FMV_PTS_WRAP ((int64_t)1 << 33)

/* Names of MPEG-2 stream types (ISO/IEC 13818-1 Table 2-34 and registered private types). */
const char *vg__fmv_stream_type_codec(uint8_t stream_type, vg_fmv_es_kind *kind);

/*
 * Unwraps a 33-bit timestamp to the value closest to *ref (updated), so that
 * a stream that crosses the 26.5-hour wrap keeps counting up.
 */
int64_t vg__fmv_unwrap(int64_t raw33, int64_t *ref, int *have_ref);

/* Routes libav* log messages to vigia's debug log (once per process). */
void vg__fmv_av_init(void);

#endif
