#include "testutil.h"

#include <string.h>
#include <sys/stat.h>

char *vg_test_data_path(const char *rel)
{
  const char *root = getenv("VIGIA_DATA");
  char *p;
  size_t n;
  struct stat st;
  if (!root || !*root)
    root = VG_TEST_DATA_DIR;
  n = strlen(root) + strlen(rel) + 2;
  p = malloc(n);
  if (!p)
    return NULL;
  snprintf(p, n, "%s/%s", root, rel);
  if (stat(p, &st) != 0) {
    free(p);
    return NULL;
  }
  return p;
}

char *vg_test_require_data(const char *rel, const char *file, int line)
{
  char *p = vg_test_data_path(rel);
  const char *ci;
  if (p)
    return p;
  ci = getenv("CI");
  if (ci && strcmp(ci, "true") == 0) {
    fail_msg("%s:%d: shared data file '%s' is absent (set VIGIA_DATA); under CI this is a failure",
             file, line, rel);
  }
  print_message("DATA ABSENT: %s (set VIGIA_DATA to the shared/data folder); test skipped\n", rel);
  skip();
  return NULL;
}

int vg_test_read_file(const char *path, uint8_t **buf, size_t *len)
{
  FILE *f = fopen(path, "rb");
  long sz;
  uint8_t *b;
  if (!f)
    return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  b = malloc((size_t)sz + 1);
  if (!b || fread(b, 1, (size_t)sz, f) != (size_t)sz) {
    free(b);
    fclose(f);
    return -1;
  }
  fclose(f);
  *buf = b;
  *len = (size_t)sz;
  return 0;
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int vg_test_unhex(const char *hex, uint8_t **buf, size_t *len)
{
  size_t n = strlen(hex);
  uint8_t *b;
  if (n >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
    hex += 2;
    n -= 2;
  }
  if (n % 2)
    return -1;
  b = malloc(n / 2 + 1);
  if (!b)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int h = hexval(hex[2 * i]), l = hexval(hex[2 * i + 1]);
    if (h < 0 || l < 0) {
      free(b);
      return -1;
    }
    b[i] = (uint8_t)(h << 4 | l);
  }
  *buf = b;
  *len = n / 2;
  return 0;
}

json_t *vg_test_load_json(const char *rel)
{
  char *p = VG_REQUIRE_DATA(rel);
  json_error_t e;
  json_t *j = json_load_file(p, 0, &e);
  if (!j)
    fail_msg("%s: %s at line %d", p, e.text, e.line);
  free(p);
  return j;
}

int vg_test_decoders_setup(void **state)
{
  vg_klv_decoder_opts o = VG_KLV_DECODER_OPTS_INIT;
  vg_test_decoders *f = calloc(1, sizeof *f);
  if (!f || vg_klv_decoder_new(&f->lenient, &o) != VG_OK)
    return -1;
  o.strict = 1;
  if (vg_klv_decoder_new(&f->strict, &o) != VG_OK)
    return -1;
  *state = f;
  return 0;
}

int vg_test_decoders_teardown(void **state)
{
  vg_test_decoders *f = *state;
  if (f) {
    vg_klv_decoder_free(f->lenient);
    vg_klv_decoder_free(f->strict);
    free(f);
  }
  return 0;
}

uint8_t *vg_test_unhex_or_fail(const char *hex, size_t *n)
{
  uint8_t *b = NULL;
  if (vg_test_unhex(hex, &b, n) != 0)
    fail_msg("bad hex in test: %.40s", hex);
  return b;
}
