/*
 * Fuzz harness: marking banners, lib/products/marking.c (DESIGN.md
 * convention 10; the grammar is docs/formats/markings.md). The input, copied
 * and NUL-terminated (capped a little past VG_MARKING_BANNER_MAX so that the
 * length limit is reached), is one banner; when it holds a '\n', the two
 * halves are also parsed as two banners and derived. Checked (abort on
 * failure):
 *  - on failure the code is VG_E_MALFORMED, the message is not empty and
 *    *out is unmarked;
 *  - on success the struct keeps its contract (codes known, canonical order,
 *    NOFORN exclusive with REL TO, caveats known and ascending), format gives
 *    back the input byte for byte (only canonical banners parse), and that
 *    text parses to the same marking;
 *  - derive is commutative and idempotent, its result formats and parses
 *    back, and it never goes to a recipient that either input could not;
 *  - release never allows an unmarked or NOFORN marking, nor a country
 *    outside REL TO, a level above the clearance or TLP:RED.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vigia/products.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest input used: past the banner limit, to reach it. */
#define IN_MAX (VG_MARKING_BANNER_MAX + 64)

static const vg_recipient k_recipients[] = {
    {"USA", VG_CLASS_TS}, {"MEX", VG_CLASS_S}, {"GBR", VG_CLASS_C}, {"FRA", VG_CLASS_U}, {"ABW", VG_CLASS_R},
};
#define N_RECIPIENTS (sizeof k_recipients / sizeof k_recipients[0])

static void fail(const char *what)
{
  fprintf(stderr, "fuzz_products_marking: invariant broken: %s (%s)\n", what, vg_error_last());
  abort();
}

static int eq(const vg_marking *a, const vg_marking *b)
{
  if (a->cls != b->cls || a->nrel != b->nrel || a->noforn != b->noforn || a->ncaveats != b->ncaveats ||
      a->tlp != b->tlp)
    return 0;
  for (int i = 0; i < a->nrel; i++)
    if (strcmp(a->rel[i], b->rel[i]) != 0)
      return 0;
  for (int i = 0; i < a->ncaveats; i++)
    if (strcmp(a->caveats[i], b->caveats[i]) != 0)
      return 0;
  return 1;
}

static int is_unmarked(const vg_marking *m)
{
  return m->cls == VG_CLASS_UNMARKED && m->nrel == 0 && m->noforn == 0 && m->ncaveats == 0 && m->tlp == VG_TLP_NONE;
}

static int rel_has(const vg_marking *m, const char *c)
{
  for (int i = 0; i < m->nrel; i++)
    if (strcmp(m->rel[i], c) == 0)
      return 1;
  return 0;
}

/* The struct contract of products.h, checked independently of the library's own check. */
static void check_struct(const vg_marking *m)
{
  if (m->cls < VG_CLASS_U || m->cls > VG_CLASS_TS || m->tlp < VG_TLP_NONE || m->tlp > VG_TLP_RED)
    fail("level out of range");
  if (m->nrel < 0 || m->nrel > VG_MARKING_MAX_REL || m->ncaveats < 0 || m->ncaveats > VG_MARKING_MAX_CAVEATS)
    fail("count out of range");
  if (m->noforn && m->nrel)
    fail("NOFORN with REL TO");
  for (int i = 0; i < m->nrel; i++) {
    if (!vg_genc3_known(m->rel[i]))
      fail("unknown country accepted");
    if (i > 0) {
      int prev_usa = strcmp(m->rel[i - 1], "USA") == 0;
      if (strcmp(m->rel[i], "USA") == 0 || (!prev_usa && strcmp(m->rel[i - 1], m->rel[i]) >= 0))
        fail("REL TO not canonical");
    }
  }
  for (int i = 0; i < m->ncaveats; i++) {
    if (!memchr(m->caveats[i], 0, VG_MARKING_CAVEAT_LEN) || m->caveats[i][0] == '\0')
      fail("caveat without its NUL, or empty");
    if (i > 0 && strcmp(m->caveats[i - 1], m->caveats[i]) >= 0)
      fail("caveats not ascending");
  }
}

/* What the release rules allow, from the rules themselves. */
static void check_release(const vg_marking *m)
{
  for (size_t k = 0; k < N_RECIPIENTS; k++) {
    const vg_recipient *r = &k_recipients[k];
    char why[128];
    int ok = vg_release_allowed(m, r, why);
    int expect = m->cls != VG_CLASS_UNMARKED && !m->noforn && rel_has(m, r->country) && m->cls <= r->cleared &&
                 m->tlp != VG_TLP_RED;
    if (ok != expect)
      fail(ok ? "release allowed against the rules" : "release denied against the rules");
    if (strncmp(why, ok ? "allowed: " : "denied: ", ok ? 9 : 8) != 0)
      fail("the reason does not start with allowed:/denied:");
  }
}

/* Parses @p s; checks the failure or success invariants. @return 1 when it parsed. */
static int parse_checked(const char *s, vg_marking *m)
{
  char out[VG_MARKING_BANNER_MAX];
  vg_marking back;
  int rc;
  memset(m, 0xA5, sizeof *m);
  vg_error_clear();
  rc = vg_marking_parse(s, m);
  if (rc != VG_OK) {
    if (rc != VG_E_MALFORMED)
      fail("an unexpected error code");
    if (vg_error_last()[0] == '\0')
      fail("no message");
    if (!is_unmarked(m))
      fail("*out not unmarked after a failure");
    check_release(m);
    return 0;
  }
  check_struct(m);
  if (vg_marking_format(m, out, sizeof out) != VG_OK)
    fail("a parsed marking does not format");
  if (strcmp(out, s) != 0)
    fail("a banner parsed but is not canonical");
  if (vg_marking_parse(out, &back) != VG_OK || !eq(&back, m))
    fail("format then parse changed the marking");
  check_release(m);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char in[IN_MAX + 1], *nl;
  vg_marking a, b, ab, ba, aa;
  size_t n = size < IN_MAX ? size : IN_MAX;
  memcpy(in, data, n);
  in[n] = '\0';
  parse_checked(in, &a);
  nl = strchr(in, '\n');
  if (!nl)
    return 0;
  *nl = '\0';
  parse_checked(in, &a);
  parse_checked(nl + 1, &b);
  ab = a;
  vg_marking_derive(&ab, &b);
  ba = b;
  vg_marking_derive(&ba, &a);
  if (!eq(&ab, &ba))
    fail("derive is not commutative");
  aa = a;
  vg_marking_derive(&aa, &a);
  if (!(is_unmarked(&a) ? is_unmarked(&aa) : eq(&aa, &a)))
    fail("derive is not idempotent");
  if (is_unmarked(&ab)) {
    if (!is_unmarked(&a) && !is_unmarked(&b))
      fail("two marked inputs derived to unmarked");
  } else {
    char out[VG_MARKING_BANNER_MAX];
    vg_marking back;
    check_struct(&ab);
    if (vg_marking_format(&ab, out, sizeof out) != VG_OK || vg_marking_parse(out, &back) != VG_OK ||
        !eq(&back, &ab))
      fail("a derived marking does not format and parse back");
  }
  check_release(&ab);
  for (size_t k = 0; k < N_RECIPIENTS; k++)
    if (vg_release_allowed(&ab, &k_recipients[k], NULL) &&
        !(vg_release_allowed(&a, &k_recipients[k], NULL) && vg_release_allowed(&b, &k_recipients[k], NULL)))
      fail("a derived marking goes where an input could not");
  return 0;
}
