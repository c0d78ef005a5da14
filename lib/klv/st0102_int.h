/*
 * lib/klv private: what the rest of the module needs from st0102.c beyond
 * its set description (vg__klv_st0102 in klv_int.h).
 */
#ifndef VG_KLV_ST0102_INT_H
#define VG_KLV_ST0102_INT_H

#include <stdint.h>

/*
 * Meaning of the enumerated code @p code of ST 0102 item @p tag:
 *   tag 1  Security Classification ("UNCLASSIFIED", ..., "TOP SECRET");
 *   tag 2  Classifying Country and Releasing Instructions Country Coding Method;
 *   tag 12 Object Country Coding Method.
 * Tags 2 and 12 do not share one code table (ST 0102.12 Tables 2 and 3):
 * code 3 is "FIPS 10-4 Two Letter" for tag 2 but "ISO-3166 Numeric" for
 * tag 12. @return a static string, or NULL for other tags or unknown codes.
 */
const char *vg__klv_st0102_enum_meaning(uint32_t tag, uint64_t code);

#endif
