/*
 * Fuzz harness: the MATLAB v5 MAT-file reader, lib/raster/mat5.c
 * (DESIGN.md convention 10).
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       128   MAT header: text, subsystem offset, version 0x0100,
 *                 endian indicator 'IM' or 'MI'
 *   128     ...   data elements (8-byte tag or 4-byte small tag, data,
 *                 padding; miCOMPRESSED holds a zlib stream of one element)
 *
 * The whole input goes to vg_raster_mat_from_mem twice: with var NULL (the
 * first 3-D numeric array, else the first 2-D one) and with var "map".
 * Checked (abort on failure):
 *  - on failure *out is untouched (convention 2) and the code is a VG_E_*;
 *  - on success the cube has bands >= 1, rows, cols >= 0 and at most
 *    VG_CUBE_MAX_VALUES values, and every value is read (ASan sees the
 *    whole buffer);
 *  - the cube, written back here as a MAT file (miSINGLE, both byte
 *    orders), reads back bit for bit: the BIP <-> column-major mapping and
 *    both byte orders agree with the reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/raster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Level 5 layout (MathWorks "MAT-File Format"): header, tags, types, classes. */
#define MAT_HEADER 128
#define MI_INT8 1
#define MI_UINT32 6
#define MI_SINGLE 7
#define MI_INT32 5
#define MI_MATRIX 14
#define MX_SINGLE 7

static void fail(const char *what, const char *var)
{
  fprintf(stderr, "fuzz_raster_mat: invariant broken (var %s): %s (%s)\n", var ? var : "NULL",
          what, vg_error_last());
  abort();
}

static uint8_t *put(uint8_t *p, uint32_t v, int be)
{
  for (int i = 0; i < 4; i++)
    p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
  return p + 4;
}

/* The cube as a MAT file of one single-precision array "x" (column-major). */
static uint8_t *write_mat(const vg_cube *c, int be, size_t *len)
{
  size_t n = (size_t)c->rows * (size_t)c->cols * (size_t)c->bands, real = n * 4;
  size_t body = 16 + 8 + 12 + 4 + 8 + 8 + real + (8 - real % 8) % 8;
  uint8_t *b = calloc(1, MAT_HEADER + 8 + body), *p;
  if (!b)
    return NULL;
  memset(b, ' ', 116);
  memcpy(b, "MATLAB 5.0 MAT-file, fuzz", 25);
  b[124] = be ? 0x01 : 0x00;
  b[125] = be ? 0x00 : 0x01;
  memcpy(b + 126, be ? "MI" : "IM", 2);
  p = b + MAT_HEADER;
  p = put(p, MI_MATRIX, be);
  p = put(p, (uint32_t)body, be);
  p = put(p, MI_UINT32, be);
  p = put(p, 8, be);
  p = put(p, MX_SINGLE, be);
  p = put(p, 0, be);
  p = put(p, MI_INT32, be);
  p = put(p, 12, be);
  p = put(p, (uint32_t)c->rows, be);
  p = put(p, (uint32_t)c->cols, be);
  p = put(p, (uint32_t)c->bands, be);
  p += 4; /* padding */
  p = put(p, 1u << 16 | MI_INT8, be); /* small element: the name "x" */
  *p = 'x';
  p += 4;
  p = put(p, MI_SINGLE, be);
  p = put(p, (uint32_t)real, be);
  for (int k = 0; k < c->bands && n > 0; k++)
    for (int j = 0; j < c->cols; j++)
      for (int i = 0; i < c->rows; i++) {
        uint32_t u;
        memcpy(&u, &vg_cube_px(c, i, j)[k], 4);
        p = put(p, u, be);
      }
  *len = MAT_HEADER + 8 + body;
  return b;
}

static void check(const uint8_t *data, size_t size, const char *var)
{
  static int sentinel;
  vg_cube *c = (vg_cube *)&sentinel, *back;
  size_t n;
  float sum = 0;
  int rc = vg_raster_mat_from_mem(&c, data, size, var, "fuzz");

  if (rc != VG_OK) {
    if (c != (vg_cube *)&sentinel)
      fail("*out written on failure", var);
    if (rc > 0 || !strcmp(vg_err_name(rc), "E_UNKNOWN"))
      fail("not an error code", var);
    return;
  }
  if (!c || c == (vg_cube *)&sentinel)
    fail("success without a cube", var);
  if (c->bands < 1 || c->rows < 0 || c->cols < 0)
    fail("cube of impossible size", var);
  n = (size_t)c->rows * (size_t)c->cols * (size_t)c->bands;
  if ((unsigned long long)n > VG_CUBE_MAX_VALUES)
    fail("cube over VG_CUBE_MAX_VALUES", var);
  if (size < MAT_HEADER)
    fail("a cube out of fewer bytes than the header", var);
  for (size_t i = 0; i < n; i++)
    sum += c->data[i];
  (void)sum;

  /* written back in both byte orders, read back bit for bit */
  for (int be = 0; be < 2 && n <= 65536; be++) {
    size_t len;
    uint8_t *m = write_mat(c, be, &len);
    if (!m)
      break;
    back = NULL;
    if (vg_raster_mat_from_mem(&back, m, len, "x", "fuzz-back") != VG_OK)
      fail("the cube written back does not read", var);
    if (back->rows != c->rows || back->cols != c->cols || back->bands != c->bands ||
        memcmp(back->data, c->data, n * sizeof *c->data) != 0)
      fail("the cube written back reads differently", var);
    vg_cube_free(back);
    free(m);
  }
  vg_cube_free(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  vg_log_set_level(VG_LOG_ERROR); /* checksum warnings are expected here */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check(data, size, NULL);
  check(data, size, "map");
  return 0;
}
