/* UTF-8 checks shared by the modules that read or write text (internal). */
#ifndef VG_UTIL_UTF8_H
#define VG_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1..4) of the well-formed UTF-8 sequence at @p s (@p n bytes left),
 * or 0 if it is not one (overlong forms, surrogates and code points past
 * U+10FFFF are not).
 */
size_t vg__util_utf8_len(const uint8_t *s, size_t n);

#endif
