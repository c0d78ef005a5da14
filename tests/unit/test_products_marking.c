/*
 * Markings (lib/products/marking.c, include/vigia/products.h):
 *   - GENC trigraphs: known, unknown, lower case, wrong length, both ends of
 *     the table; and, when iso-codes is installed, every ISO 3166-1 alpha-3
 *     code of that file known (the committed table is not stale);
 *   - valid banners parsed field for field, formatted back byte for byte and
 *     parsed again to the same marking; the limits at their boundary (64 and
 *     65 countries; 511 and 512 bytes); format's VG_E_LIMIT and VG_E_INVALID;
 *   - invalid banners, one per rule, refused with VG_E_MALFORMED naming the
 *     offending token, *out left unmarked;
 *   - derive: hand cases, then commutative and idempotent over every pair of
 *     valid banners;
 *   - release: markings x recipients against an expected table written here,
 *     independently, with the rule that must decide each denial;
 *   - ST 0102: a set nested in ST 0601 tag 48, written with vigia's KLV
 *     encoder and decoded back, gives UNCLASSIFIED//REL TO USA, MEX; variants
 *     (stand-alone, ISO coding, caveats, NOFORN) and refusals (missing tag 1
 *     or 2, bad coding method, bad codes, SCI, duplicated tags).
 */
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "vigia/products.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* Field-for-field equality (unused slots are not compared). */
static int marking_eq(const vg_marking *a, const vg_marking *b)
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

static void assert_unmarked(const vg_marking *m)
{
  assert_int_equal(m->cls, VG_CLASS_UNMARKED);
  assert_int_equal(m->nrel, 0);
  assert_int_equal(m->noforn, 0);
  assert_int_equal(m->ncaveats, 0);
  assert_int_equal(m->tlp, VG_TLP_NONE);
}

/* Space-joined list of the marking's countries / caveats, for comparing with a table. */
static void join_rel(const vg_marking *m, char *out, size_t cap)
{
  out[0] = '\0';
  for (int i = 0; i < m->nrel; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", m->rel[i]);
}

static void join_caveats(const vg_marking *m, char *out, size_t cap)
{
  out[0] = '\0';
  for (int i = 0; i < m->ncaveats; i++)
    snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", m->caveats[i]);
}

static vg_marking parse_ok(const char *banner)
{
  vg_marking m;
  int rc = vg_marking_parse(banner, &m);
  if (rc != VG_OK)
    fail_msg("'%s' refused: %s", banner, vg_error_last());
  return m;
}

static void assert_formats_as(const vg_marking *m, const char *expect)
{
  char out[VG_MARKING_BANNER_MAX];
  int rc = vg_marking_format(m, out, sizeof out);
  if (rc != VG_OK)
    fail_msg("format failed (%s), expected '%s'", vg_error_last(), expect);
  assert_string_equal(out, expect);
}

/* ---- GENC ------------------------------------------------------------------------- */

static void test_genc3(void **state)
{
  (void)state;
  assert_int_equal(vg_genc3_known("MEX"), 1);
  assert_int_equal(vg_genc3_known("USA"), 1);
  assert_int_equal(vg_genc3_known("GBR"), 1);
  assert_int_equal(vg_genc3_known("ABW"), 1); /* first of the table */
  assert_int_equal(vg_genc3_known("ZWE"), 1); /* last */
  assert_int_equal(vg_genc3_known("XYZ"), 0);
  assert_int_equal(vg_genc3_known("AAA"), 0);
  assert_int_equal(vg_genc3_known("ZZZ"), 0);
  assert_int_equal(vg_genc3_known("mex"), 0);
  assert_int_equal(vg_genc3_known("Mex"), 0);
  assert_int_equal(vg_genc3_known("ME"), 0);
  assert_int_equal(vg_genc3_known("MEXI"), 0);
  assert_int_equal(vg_genc3_known(""), 0);
  assert_int_equal(vg_genc3_known(NULL), 0);
  assert_int_equal(vg_genc3_known("FVEY"), 0); /* a tetragraph, not a country */
}

/* The committed table holds every code of iso-codes (when installed here). */
static void test_genc3_iso_file(void **state)
{
  const char *path = "/usr/share/iso-codes/json/iso_3166-1.json";
  json_error_t err;
  json_t *root, *arr, *v;
  size_t i, n = 0;
  (void)state;
  root = json_load_file(path, 0, &err);
  if (!root) {
    print_message("skipped: %s not readable\n", path);
    skip();
  }
  arr = json_object_get(root, "3166-1");
  assert_true(json_is_array(arr));
  json_array_foreach(arr, i, v)
  {
    const char *a3 = json_string_value(json_object_get(v, "alpha_3"));
    assert_non_null(a3);
    if (!vg_genc3_known(a3))
      fail_msg("%s from %s is not in the table", a3, path);
    n++;
  }
  json_decref(root);
  assert_int_equal(n, 249); /* iso-codes 4.15.0, the table's source */
}

/* ---- valid banners ---------------------------------------------------------------- */

typedef struct valid_case {
  const char *banner;
  vg_class cls;
  const char *rel;     /* space-joined */
  int noforn;
  const char *caveats; /* space-joined */
  vg_tlp tlp;
} valid_case;

static const valid_case k_valid[] = {
    {"UNCLASSIFIED", VG_CLASS_U, "", 0, "", VG_TLP_NONE},
    {"RESTRICTED", VG_CLASS_R, "", 0, "", VG_TLP_NONE},
    {"CONFIDENTIAL", VG_CLASS_C, "", 0, "", VG_TLP_NONE},
    {"SECRET", VG_CLASS_S, "", 0, "", VG_TLP_NONE},
    {"TOP SECRET", VG_CLASS_TS, "", 0, "", VG_TLP_NONE},
    {"UNCLASSIFIED//REL TO USA, MEX", VG_CLASS_U, "USA MEX", 0, "", VG_TLP_NONE},
    {"SECRET//NOFORN", VG_CLASS_S, "", 1, "", VG_TLP_NONE},
    {"CONFIDENTIAL//FOUO//REL TO USA, GBR//TLP:AMBER+STRICT", VG_CLASS_C, "USA GBR", 0, "FOUO",
     VG_TLP_AMBER_STRICT},
    {"UNCLASSIFIED//FOUO", VG_CLASS_U, "", 0, "FOUO", VG_TLP_NONE},
    {"UNCLASSIFIED//TLP:CLEAR", VG_CLASS_U, "", 0, "", VG_TLP_CLEAR},
    {"RESTRICTED//TLP:GREEN", VG_CLASS_R, "", 0, "", VG_TLP_GREEN},
    {"RESTRICTED//LES//TLP:RED", VG_CLASS_R, "", 0, "LES", VG_TLP_RED},
    {"SECRET//FOUO/IMCON/LES/ORCON/PROPIN/RELIDO//NOFORN//TLP:RED", VG_CLASS_S, "", 1,
     "FOUO IMCON LES ORCON PROPIN RELIDO", VG_TLP_RED},
    {"TOP SECRET//ORCON//REL TO USA, AUS, CAN, GBR, NZL//TLP:GREEN", VG_CLASS_TS, "USA AUS CAN GBR NZL", 0,
     "ORCON", VG_TLP_GREEN},
    {"UNCLASSIFIED//REL TO GBR, MEX", VG_CLASS_U, "GBR MEX", 0, "", VG_TLP_NONE},
    {"UNCLASSIFIED//REL TO MEX//TLP:AMBER", VG_CLASS_U, "MEX", 0, "", VG_TLP_AMBER},
    {"CONFIDENTIAL//REL TO USA", VG_CLASS_C, "USA", 0, "", VG_TLP_NONE},
    {"UNCLASSIFIED//REL TO ABW, ZWE", VG_CLASS_U, "ABW ZWE", 0, "", VG_TLP_NONE},
    {"SECRET//PROPIN/RELIDO//REL TO USA, FRA, GBR, MEX", VG_CLASS_S, "USA FRA GBR MEX", 0, "PROPIN RELIDO",
     VG_TLP_NONE},
    {"TOP SECRET//NOFORN//TLP:AMBER", VG_CLASS_TS, "", 1, "", VG_TLP_AMBER},
    {"SECRET//IMCON//TLP:CLEAR", VG_CLASS_S, "", 0, "IMCON", VG_TLP_CLEAR},
};
#define N_VALID (sizeof k_valid / sizeof k_valid[0])

static void test_valid(void **state)
{
  (void)state;
  for (size_t i = 0; i < N_VALID; i++) {
    const valid_case *c = &k_valid[i];
    vg_marking m = parse_ok(c->banner), m2;
    char rel[512], cav[128], out[VG_MARKING_BANNER_MAX];
    join_rel(&m, rel, sizeof rel);
    join_caveats(&m, cav, sizeof cav);
    if (m.cls != c->cls || m.noforn != c->noforn || m.tlp != c->tlp || strcmp(rel, c->rel) || strcmp(cav, c->caveats))
      fail_msg("'%s': cls %d noforn %d tlp %d rel '%s' caveats '%s'", c->banner, (int)m.cls, m.noforn, (int)m.tlp,
               rel, cav);
    assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_OK);
    assert_string_equal(out, c->banner);
    assert_int_equal(vg_marking_parse(out, &m2), VG_OK);
    assert_true(marking_eq(&m, &m2));
  }
}

/* 64 countries parse; a 65th is refused. The longest valid banner stays far below 511 bytes. */
static void test_limits(void **state)
{
  /* 65 known codes in canonical order (USA first) */
  static const char *const codes[] = {
      "USA", "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA",
      "ATF", "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR",
      "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN", "BVT", "BWA",
      "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG", "COK", "COL", "COM",
      "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM",
  };
  char b[1024], out[VG_MARKING_BANNER_MAX];
  vg_marking m, m2;
  size_t len;
  (void)state;
  assert_int_equal(sizeof codes / sizeof codes[0], VG_MARKING_MAX_REL + 1);
  snprintf(b, sizeof b, "TOP SECRET//FOUO/IMCON/LES/ORCON/PROPIN/RELIDO//REL TO ");
  for (int i = 0; i < VG_MARKING_MAX_REL; i++)
    snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", i ? ", " : "", codes[i]);
  strcat(b, "//TLP:AMBER+STRICT");
  len = strlen(b);
  assert_true(len < VG_MARKING_BANNER_MAX - 1); /* the longest marking fits the banner limit */
  m = parse_ok(b);
  assert_int_equal(m.nrel, VG_MARKING_MAX_REL);
  assert_int_equal(m.ncaveats, 6);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_OK);
  assert_string_equal(out, b);
  /* format: exactly len + 1 bytes suffice, len do not; 0 neither */
  assert_int_equal(vg_marking_format(&m, out, len + 1), VG_OK);
  assert_string_equal(out, b);
  assert_int_equal(vg_marking_format(&m, out, len), VG_E_LIMIT);
  assert_string_equal(out, "");
  assert_int_equal(vg_marking_format(&m, out, 0), VG_E_LIMIT);
  /* the 65th country */
  snprintf(b, sizeof b, "UNCLASSIFIED//REL TO ");
  for (int i = 0; i < VG_MARKING_MAX_REL + 1; i++)
    snprintf(b + strlen(b), sizeof b - strlen(b), "%s%s", i ? ", " : "", codes[i]);
  assert_true(strlen(b) < VG_MARKING_BANNER_MAX - 1);
  memset(&m2, 0x5A, sizeof m2);
  assert_int_equal(vg_marking_parse(b, &m2), VG_E_MALFORMED);
  assert_non_null(strstr(vg_error_last(), "'DOM'"));
  assert_non_null(strstr(vg_error_last(), "VG_MARKING_MAX_REL"));
  assert_unmarked(&m2);
  /* 511 bytes: read to the end (refused for its content); 512: refused for its length */
  memset(b, 'A', sizeof b);
  memcpy(b, "SECRET//", 8);
  b[VG_MARKING_BANNER_MAX - 1] = '\0';
  assert_int_equal(vg_marking_parse(b, &m2), VG_E_MALFORMED);
  assert_null(strstr(vg_error_last(), "longer than"));
  assert_non_null(strstr(vg_error_last(), "unknown caveat"));
  b[VG_MARKING_BANNER_MAX - 1] = 'A';
  b[VG_MARKING_BANNER_MAX] = '\0';
  assert_int_equal(vg_marking_parse(b, &m2), VG_E_MALFORMED);
  assert_non_null(strstr(vg_error_last(), "longer than"));
  assert_non_null(strstr(vg_error_last(), "'SECRET//AAAAAAAA"));
  assert_unmarked(&m2);
}

/* Format refuses what it could not write canonically. */
static void test_format_invalid(void **state)
{
  vg_marking m;
  char out[VG_MARKING_BANNER_MAX];
  (void)state;
  vg_marking_unmarked(&m);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  assert_string_equal(out, "");
  assert_int_equal(vg_marking_format(NULL, out, sizeof out), VG_E_INVALID);
  m = parse_ok("SECRET//REL TO USA, MEX");
  assert_int_equal(vg_marking_format(&m, NULL, 10), VG_E_INVALID);
  /* not canonical: MEX before USA */
  memcpy(m.rel[0], "MEX", 4);
  memcpy(m.rel[1], "USA", 4);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  /* duplicate */
  memcpy(m.rel[0], "MEX", 4);
  memcpy(m.rel[1], "MEX", 4);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  /* unknown code */
  memcpy(m.rel[0], "USA", 4);
  memcpy(m.rel[1], "XYZ", 4);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  /* NOFORN with REL TO */
  m = parse_ok("SECRET//REL TO USA, MEX");
  m.noforn = 1;
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  /* caveats out of order, unknown, classification and TLP out of range */
  m = parse_ok("SECRET//FOUO/LES");
  memcpy(m.caveats[0], "LES", 4);
  memcpy(m.caveats[1], "FOUO", 5);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  m = parse_ok("SECRET//FOUO");
  memcpy(m.caveats[0], "NOPE", 5);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  m = parse_ok("SECRET");
  m.cls = (vg_class)0;
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  m = parse_ok("SECRET");
  m.tlp = (vg_tlp)(VG_TLP_RED + 1);
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
  m = parse_ok("SECRET");
  m.nrel = VG_MARKING_MAX_REL + 1;
  assert_int_equal(vg_marking_format(&m, out, sizeof out), VG_E_INVALID);
}

/* ---- invalid banners -------------------------------------------------------------- */

typedef struct invalid_case {
  const char *banner;
  const char *token; /* must appear in the message */
} invalid_case;

static const invalid_case k_invalid[] = {
    /* classification: case, abbreviations, spacing, unknown words */
    {"", "classification"},
    {"unclassified", "'unclassified' at byte 0"},
    {"Secret", "'Secret' at byte 0"},
    {"U", "'U' at byte 0"},
    {"S//REL USA", "'S' at byte 0"},
    {"TS", "'TS'"},
    {"TOP  SECRET", "'TOP  SECRET'"},
    {"TOPSECRET", "'TOPSECRET'"},
    {" SECRET", "' SECRET' at byte 0"},
    {"SECRET ", "'SECRET '"},
    {"SECRET//REL USA", "'REL USA' at byte 8"},
    {"//SECRET", "'//' at byte 0"},
    {"FOUO", "'FOUO'"},
    /* separators: trailing, empty blocks, single slashes */
    {"SECRET//", "trailing '//' at byte 6"},
    {"SECRET//FOUO//", "trailing '//' at byte 12"},
    {"SECRET////NOFORN", "'////' at byte 6"},
    {"SECRET///FOUO", "empty caveat '/' at byte 8"},
    {"SECRET//FOUO/", "trailing '/'"},
    {"SECRET/NOFORN", "'SECRET/NOFORN'"},
    /* REL TO */
    {"UNCLASSIFIED//REL TO", "empty REL TO 'REL TO'"},
    {"UNCLASSIFIED//REL TO ", "empty REL TO"},
    {"UNCLASSIFIED//REL TOUSA", "'REL TOUSA'"},
    {"UNCLASSIFIED//RELTO USA", "'RELTO USA'"},
    {"UNCLASSIFIED//rel to USA", "'rel to USA'"},
    {"UNCLASSIFIED//REL TO  USA", "' USA' at byte 21"},
    {"UNCLASSIFIED//REL TO USA,MEX", "',' at byte 24"},
    {"UNCLASSIFIED//REL TO USA,  MEX", "' MEX' at byte 26"},
    {"UNCLASSIFIED//REL TO USA ,MEX", "'USA ' at byte 21"},
    {"UNCLASSIFIED//REL TO USA, ", "trailing ', '"},
    {"UNCLASSIFIED//REL TO USA,", "','"},
    {"UNCLASSIFIED//REL TO usa", "'usa'"},
    {"UNCLASSIFIED//REL TO USA, mex", "'mex'"},
    {"UNCLASSIFIED//REL TO US", "'US'"},
    {"UNCLASSIFIED//REL TO USA, XYZ", "unknown country code 'XYZ' at byte 26"},
    {"UNCLASSIFIED//REL TO USA, FVEY", "'FVEY'"},
    {"UNCLASSIFIED//REL TO USA, USA", "duplicate country code 'USA'"},
    {"UNCLASSIFIED//REL TO USA, MEX, MEX", "duplicate country code 'MEX' at byte 31"},
    {"UNCLASSIFIED//REL TO MEX, USA", "USA not first in REL TO 'USA' at byte 26"},
    {"UNCLASSIFIED//REL TO USA, MEX, GBR", "out of alphabetical order 'GBR'"},
    {"SECRET//REL TO USA, MEX//REL TO USA", "duplicate REL TO block 'REL TO USA' at byte 25"},
    /* NOFORN */
    {"SECRET//NOFORN//REL TO USA", "REL TO together with NOFORN 'REL TO USA' at byte 16"},
    {"SECRET//REL TO USA//NOFORN", "NOFORN together with REL TO 'NOFORN' at byte 20"},
    {"SECRET//NOFORN//NOFORN", "duplicate NOFORN"},
    {"SECRET//NF", "'NF'"},
    {"SECRET//noforn", "'noforn'"},
    {"SECRET//ORCON/NOFORN", "own '//' block"},
    /* caveats */
    {"UNCLASSIFIED//fouo", "'fouo'"},
    {"UNCLASSIFIED//XYZZY", "unknown caveat 'XYZZY' at byte 14"},
    {"UNCLASSIFIED//LES/FOUO", "out of alphabetical order 'FOUO' at byte 18"},
    {"UNCLASSIFIED//FOUO/FOUO", "duplicate caveat 'FOUO' at byte 19"},
    {"UNCLASSIFIED//FOUO//LES", "block) 'LES' at byte 20"},
    {"UNCLASSIFIED//FOUO/ LES", "' LES'"},
    /* TLP */
    {"SECRET//TLP:WHITE", "unknown TLP level 'WHITE' at byte 12"},
    {"SECRET//TLP:red", "'red'"},
    {"SECRET//tlp:RED", "'tlp:RED'"},
    {"SECRET//TLP: RED", "' RED'"},
    {"SECRET//TLP:AMBER STRICT", "'AMBER STRICT'"},
    {"SECRET//TLP:", "unknown TLP level '' at byte 12"},
    {"SECRET//TLP RED", "'TLP RED'"},
    {"SECRET//TLP:RED//TLP:RED", "duplicate TLP block"},
    /* blocks out of order */
    {"SECRET//NOFORN//FOUO", "caveats after the NOFORN / REL TO block 'FOUO'"},
    {"SECRET//TLP:RED//NOFORN", "after the TLP block 'NOFORN'"},
    {"SECRET//TLP:RED//FOUO", "caveats after the TLP block 'FOUO'"},
    {"SECRET//ORCON//TLP:AMBER//REL TO USA", "'REL TO USA'"},
    /* bytes outside ASCII are shown as '?' */
    {"SECRET//\xC3\x89T\xC3\x89", "'\?\?T\?\?'"},
};
#define N_INVALID (sizeof k_invalid / sizeof k_invalid[0])

static void test_invalid(void **state)
{
  (void)state;
  assert_true(N_INVALID >= 30);
  for (size_t i = 0; i < N_INVALID; i++) {
    vg_marking m;
    int rc;
    memset(&m, 0xA5, sizeof m); /* garbage: the parser must leave it unmarked */
    vg_error_clear();
    rc = vg_marking_parse(k_invalid[i].banner, &m);
    if (rc != VG_E_MALFORMED)
      fail_msg("'%s': expected VG_E_MALFORMED, got %s", k_invalid[i].banner, vg_err_name(rc));
    if (!strstr(vg_error_last(), k_invalid[i].token))
      fail_msg("'%s': message \"%s\" lacks \"%s\"", k_invalid[i].banner, vg_error_last(), k_invalid[i].token);
    assert_unmarked(&m);
  }
  /* NULL banner: malformed; NULL out: invalid */
  {
    vg_marking m;
    memset(&m, 0xA5, sizeof m);
    assert_int_equal(vg_marking_parse(NULL, &m), VG_E_MALFORMED);
    assert_non_null(strstr(vg_error_last(), "NULL"));
    assert_unmarked(&m);
    assert_int_equal(vg_marking_parse("SECRET", NULL), VG_E_INVALID);
  }
}

/* ---- derive ----------------------------------------------------------------------- */

static void derive_case(const char *a, const char *b, const char *expect)
{
  vg_marking m = parse_ok(a), n = parse_ok(b), m2 = parse_ok(b), n2 = parse_ok(a);
  vg_marking_derive(&m, &n);
  assert_formats_as(&m, expect);
  vg_marking_derive(&m2, &n2); /* the other way round */
  assert_formats_as(&m2, expect);
}

static void test_derive(void **state)
{
  vg_marking m, u, x;
  (void)state;
  derive_case("UNCLASSIFIED//REL TO USA, GBR, MEX", "CONFIDENTIAL//REL TO USA, MEX", "CONFIDENTIAL//REL TO USA, MEX");
  derive_case("UNCLASSIFIED//REL TO USA, MEX", "SECRET//NOFORN", "SECRET//NOFORN");
  derive_case("UNCLASSIFIED//REL TO USA, MEX//TLP:GREEN", "RESTRICTED//REL TO USA, MEX//TLP:AMBER+STRICT",
              "RESTRICTED//REL TO USA, MEX//TLP:AMBER+STRICT");
  derive_case("UNCLASSIFIED//TLP:RED", "UNCLASSIFIED//TLP:AMBER", "UNCLASSIFIED//TLP:RED");
  derive_case("UNCLASSIFIED", "UNCLASSIFIED//TLP:CLEAR", "UNCLASSIFIED//TLP:CLEAR");
  derive_case("UNCLASSIFIED//LES", "UNCLASSIFIED//FOUO/ORCON", "UNCLASSIFIED//FOUO/LES/ORCON");
  derive_case("UNCLASSIFIED//FOUO/LES", "UNCLASSIFIED//LES/RELIDO", "UNCLASSIFIED//FOUO/LES/RELIDO");
  derive_case("UNCLASSIFIED//REL TO GBR", "UNCLASSIFIED//REL TO MEX", "UNCLASSIFIED");
  derive_case("UNCLASSIFIED//REL TO USA, MEX", "UNCLASSIFIED", "UNCLASSIFIED");
  derive_case("TOP SECRET//REL TO USA, AUS, GBR", "UNCLASSIFIED//REL TO USA, GBR, MEX", "TOP SECRET//REL TO USA, GBR");
  derive_case("SECRET//REL TO AUS, GBR", "SECRET//REL TO USA, GBR", "SECRET//REL TO GBR");
  derive_case("CONFIDENTIAL//ORCON//REL TO USA, MEX//TLP:AMBER", "SECRET//FOUO//NOFORN//TLP:GREEN",
              "SECRET//FOUO/ORCON//NOFORN//TLP:AMBER");
  /* anything with unmarked is unmarked, either way round */
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  vg_marking_unmarked(&u);
  vg_marking_derive(&m, &u);
  assert_unmarked(&m);
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  vg_marking_derive(&u, &m);
  assert_unmarked(&u);
  /* a missing or malformed input too */
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  vg_marking_derive(&m, NULL);
  assert_unmarked(&m);
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  x = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  memcpy(x.rel[1], "XYZ", 4);
  vg_marking_derive(&m, &x);
  assert_unmarked(&m);
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  x = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  x.cls = (vg_class)0;
  vg_marking_derive(&m, &x);
  assert_unmarked(&m);
  vg_marking_derive(NULL, &m); /* no crash */
  /* aliasing: derive(a, a) == a */
  m = parse_ok("SECRET//FOUO//REL TO USA, MEX//TLP:AMBER");
  x = m;
  vg_marking_derive(&m, &m);
  assert_true(marking_eq(&m, &x));
}

/* Commutative, idempotent, and never more releasable than either input, over all pairs. */
static void test_derive_pairs(void **state)
{
  static const vg_recipient rs[] = {{"USA", VG_CLASS_TS}, {"MEX", VG_CLASS_TS}, {"GBR", VG_CLASS_TS},
                                    {"ABW", VG_CLASS_TS}, {"FRA", VG_CLASS_S}};
  (void)state;
  for (size_t i = 0; i < N_VALID; i++) {
    vg_marking a = parse_ok(k_valid[i].banner), aa = a;
    vg_marking_derive(&aa, &a);
    assert_true(marking_eq(&aa, &a));
    for (size_t j = 0; j < N_VALID; j++) {
      vg_marking b = parse_ok(k_valid[j].banner), ab = a, ba = b, back;
      char out[VG_MARKING_BANNER_MAX];
      vg_marking_derive(&ab, &b);
      vg_marking_derive(&ba, &a);
      if (!marking_eq(&ab, &ba))
        fail_msg("derive of '%s' and '%s' is not commutative", k_valid[i].banner, k_valid[j].banner);
      assert_int_equal(vg_marking_format(&ab, out, sizeof out), VG_OK);
      assert_int_equal(vg_marking_parse(out, &back), VG_OK);
      assert_true(marking_eq(&ab, &back));
      for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++)
        if (vg_release_allowed(&ab, &rs[k], NULL) &&
            !(vg_release_allowed(&a, &rs[k], NULL) && vg_release_allowed(&b, &rs[k], NULL)))
          fail_msg("'%s' derived from '%s' and '%s' goes to %s", out, k_valid[i].banner, k_valid[j].banner,
                   rs[k].country);
    }
  }
}

/* ---- release ---------------------------------------------------------------------- */

/*
 * Expected decisions, written from the rules of products.h and not from the
 * code: one character per recipient (MEX cleared S, GBR cleared C, FRA
 * cleared TS, USA cleared TS): '1' allowed, and for a denial the rule that
 * decides it first: 'U' unmarked, 'N' NOFORN, 'R' not in REL TO, 'C' above
 * the clearance, 'T' TLP:RED.
 */
static const vg_recipient k_recipients[] = {
    {"MEX", VG_CLASS_S}, {"GBR", VG_CLASS_C}, {"FRA", VG_CLASS_TS}, {"USA", VG_CLASS_TS}};
#define N_RECIPIENTS (sizeof k_recipients / sizeof k_recipients[0])

static const struct {
  const char *banner; /* NULL: unmarked */
  const char *expect;
} k_matrix[] = {
    {"UNCLASSIFIED//REL TO USA, MEX", "1RR1"},
    {"SECRET//REL TO USA, GBR, MEX", "1CR1"},
    {"TOP SECRET//REL TO USA, MEX", "CRR1"},
    {"CONFIDENTIAL//REL TO USA, GBR, MEX//TLP:AMBER+STRICT", "11R1"},
    {"CONFIDENTIAL//REL TO USA, GBR, MEX//TLP:RED", "TTRT"},
    {"SECRET//NOFORN", "NNNN"},
    {"UNCLASSIFIED//NOFORN//TLP:CLEAR", "NNNN"},
    {"UNCLASSIFIED", "RRRR"},
    {"UNCLASSIFIED//FOUO//REL TO FRA, GBR", "R11R"},
    {"RESTRICTED//REL TO USA, FRA, GBR, MEX//TLP:CLEAR", "1111"},
    {"SECRET//ORCON//REL TO USA, FRA, GBR, MEX//TLP:GREEN", "1C11"},
    {"CONFIDENTIAL//REL TO GBR", "R1RR"},
    {NULL, "UUUU"},
};

static const char *rule_word(char code)
{
  switch (code) {
  case 'U': return "unmarked";
  case 'N': return "NOFORN";
  case 'R': return "not in REL TO";
  case 'C': return "above the clearance";
  case 'T': return "TLP:RED";
  default: return "?";
  }
}

static void test_release_matrix(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof k_matrix / sizeof k_matrix[0]; i++) {
    vg_marking m;
    if (k_matrix[i].banner)
      m = parse_ok(k_matrix[i].banner);
    else
      vg_marking_unmarked(&m);
    for (size_t k = 0; k < N_RECIPIENTS; k++) {
      char why[128];
      char e = k_matrix[i].expect[k];
      int got = vg_release_allowed(&m, &k_recipients[k], why);
      const char *name = k_matrix[i].banner ? k_matrix[i].banner : "(unmarked)";
      if (got != (e == '1'))
        fail_msg("'%s' to %s: got %d (%s), expected %c", name, k_recipients[k].country, got, why, e);
      if (e == '1' ? strncmp(why, "allowed: ", 9) != 0
                   : (strncmp(why, "denied: ", 8) != 0 || !strstr(why, rule_word(e))))
        fail_msg("'%s' to %s: reason '%s', expected rule %c", name, k_recipients[k].country, why, e);
      assert_int_equal(vg_release_allowed(&m, &k_recipients[k], NULL), got); /* why may be NULL */
    }
  }
}

static void test_release_edges(void **state)
{
  vg_marking m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  vg_recipient r = {"MEX", VG_CLASS_U};
  char why[128];
  (void)state;
  assert_int_equal(vg_release_allowed(&m, &r, why), 1);
  assert_int_equal(vg_release_allowed(NULL, &r, why), 0);
  assert_non_null(strstr(why, "denied: no marking"));
  assert_int_equal(vg_release_allowed(&m, NULL, why), 0);
  assert_non_null(strstr(why, "denied: no recipient"));
  memcpy(r.country, "mex", 4);
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  assert_non_null(strstr(why, "denied:"));
  memcpy(r.country, "XYZ", 4);
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  memcpy(r.country, "ME", 3);
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  memcpy(r.country, "MEX", 4);
  r.cleared = VG_CLASS_UNMARKED; /* not a clearance */
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  assert_non_null(strstr(why, "clearance"));
  r.cleared = (vg_class)0;
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  r.cleared = VG_CLASS_TS;
  /* a marking broken after parsing (REL TO with NOFORN) is denied, not trusted */
  m.noforn = 1;
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  m = parse_ok("UNCLASSIFIED//REL TO USA, MEX");
  m.cls = (vg_class)0;
  assert_int_equal(vg_release_allowed(&m, &r, why), 0);
  assert_non_null(strstr(why, "denied: invalid marking"));
}

/* ---- ST 0102 ---------------------------------------------------------------------- */

/* Items of an ST 0102 set under test; a NULL string or a 0 uint leaves the item out. */
typedef struct sec {
  uint64_t cls, method;
  const char *caveats, *rel, *sci;
  int twice_rel; /* tag 6 written twice */
} sec;

static int sec_items(const sec *s, vg_klv_item *it)
{
  int n = 0;
  if (s->cls)
    it[n++] = vg_klv_item_uint(1, s->cls);
  if (s->method)
    it[n++] = vg_klv_item_uint(2, s->method);
  it[n++] = vg_klv_item_str(3, "//USA");
  if (s->sci)
    it[n++] = vg_klv_item_str(4, s->sci);
  if (s->caveats)
    it[n++] = vg_klv_item_str(5, s->caveats);
  if (s->rel)
    it[n++] = vg_klv_item_str(6, s->rel);
  if (s->rel && s->twice_rel)
    it[n++] = vg_klv_item_str(6, "USA GBR");
  it[n++] = vg_klv_item_uint(12, 0x0E);
  it[n++] = vg_klv_item_uint(22, 12);
  return n;
}

/*
 * Encodes @p s as an ST 0102 set nested in an ST 0601 packet (tag 48) or as a
 * stand-alone ST 0102 packet, decodes it and maps it. Frees everything before
 * returning, so a failing assertion in the caller leaks nothing.
 */
static int st0102_marking(const sec *s, int standalone, vg_marking *out)
{
  vg_klv_item it[12], sit[12];
  vg_klv_set secset;
  vg_klv_packet pkt;
  vg_klv_decoder *d = NULL;
  const vg_klv_packet *dp;
  const vg_klv_item *i48;
  vg_buf b;
  size_t used, n = 0;
  int rc;
  memset(&secset, 0, sizeof secset);
  secset.kind = VG_KLV_KIND_ST0102;
  secset.items = sit;
  secset.n = (size_t)sec_items(s, sit);
  memset(&pkt, 0, sizeof pkt);
  if (standalone) {
    pkt.kind = VG_KLV_KIND_ST0102;
    pkt.set = secset;
  } else {
    it[n++] = vg_klv_item_time(2, 1780000000000000ull);
    it[n++] = vg_klv_item_str(3, "MARKING TEST");
    memset(&it[n], 0, sizeof it[n]);
    it[n].tag = 48;
    it[n].type = VG_KLV_T_SET;
    it[n].child = &secset;
    n++;
    it[n++] = vg_klv_item_uint(65, 17);
    pkt.kind = VG_KLV_KIND_ST0601;
    pkt.set.kind = VG_KLV_KIND_ST0601;
    pkt.set.items = it;
    pkt.set.n = n;
  }
  vg_buf_init(&b, 1 << 16);
  if ((rc = vg_klv_encode(&b, &pkt)) != VG_OK)
    goto done;
  if ((rc = vg_klv_decoder_new(&d, NULL)) != VG_OK)
    goto done;
  if ((rc = vg_klv_decode(d, &dp, b.data, b.len, &used)) != VG_OK)
    goto done;
  if (used != b.len) {
    rc = VG_E_INVALID;
    goto done;
  }
  if (standalone) {
    rc = dp->kind == VG_KLV_KIND_ST0102 ? vg_marking_from_st0102(&dp->set, out) : VG_E_INVALID;
    goto done;
  }
  i48 = vg_klv_find(&dp->set, 48);
  if (!i48 || i48->type != VG_KLV_T_SET || !i48->child || i48->child->kind != VG_KLV_KIND_ST0102) {
    rc = VG_E_NOTFOUND;
    goto done;
  }
  /* the ST 0601 set itself is not a security set */
  if (vg_marking_from_st0102(&dp->set, out) != VG_E_INVALID || out->cls != VG_CLASS_UNMARKED) {
    rc = VG_E_INVALID;
    goto done;
  }
  rc = vg_marking_from_st0102(i48->child, out);
done:
  vg_klv_decoder_free(d);
  vg_buf_free(&b);
  return rc;
}

static void st0102_ok(const sec *s, int standalone, const char *expect)
{
  vg_marking m;
  int rc = st0102_marking(s, standalone, &m);
  if (rc != VG_OK)
    fail_msg("expected '%s', got %s: %s", expect, vg_err_name(rc), vg_error_last());
  assert_formats_as(&m, expect);
}

static void st0102_bad(const sec *s, const char *token)
{
  vg_marking m;
  int rc;
  memset(&m, 0xA5, sizeof m);
  rc = st0102_marking(s, 0, &m);
  if (rc != VG_E_MALFORMED)
    fail_msg("expected VG_E_MALFORMED naming \"%s\", got %s: %s", token, vg_err_name(rc), vg_error_last());
  if (!strstr(vg_error_last(), token))
    fail_msg("message \"%s\" lacks \"%s\"", vg_error_last(), token);
  assert_unmarked(&m);
}

static void test_st0102(void **state)
{
  (void)state;
  /* the video of the simulator: UNCLASSIFIED, GENC, "USA MEX" */
  st0102_ok(&(sec){1, 0x0E, NULL, "USA MEX", NULL, 0}, 0, "UNCLASSIFIED//REL TO USA, MEX");
  st0102_ok(&(sec){1, 0x0E, NULL, "USA MEX", NULL, 0}, 1, "UNCLASSIFIED//REL TO USA, MEX");
  /* canonical order whatever the order on the wire; ISO three-letter; repeated codes merge */
  st0102_ok(&(sec){4, 0x02, NULL, "MEX GBR USA", NULL, 0}, 0, "SECRET//REL TO USA, GBR, MEX");
  st0102_ok(&(sec){2, 0x0E, NULL, "MEX  USA MEX ", NULL, 0}, 0, "RESTRICTED//REL TO USA, MEX");
  st0102_ok(&(sec){3, 0x0E, "ORCON/FOUO", "USA MEX", NULL, 0}, 0, "CONFIDENTIAL//FOUO/ORCON//REL TO USA, MEX");
  st0102_ok(&(sec){3, 0x0E, "LES", "USA", "", 0}, 0, "CONFIDENTIAL//LES//REL TO USA");
  st0102_ok(&(sec){5, 0x0E, "", "NOFORN", NULL, 0}, 0, "TOP SECRET//NOFORN");
  st0102_ok(&(sec){1, 0x0E, NULL, NULL, NULL, 0}, 0, "UNCLASSIFIED");
  st0102_ok(&(sec){1, 0x0E, NULL, "", NULL, 0}, 0, "UNCLASSIFIED");
  /* refusals */
  st0102_bad(&(sec){0, 0x0E, NULL, "USA MEX", NULL, 0}, "tag 1");
  st0102_bad(&(sec){6, 0x0E, NULL, "USA MEX", NULL, 0}, "tag 1");
  st0102_bad(&(sec){1, 0, NULL, "USA MEX", NULL, 0}, "tag 2");
  st0102_bad(&(sec){1, 0x01, NULL, "USA MEX", NULL, 0}, "0x01");          /* ISO two-letter */
  st0102_bad(&(sec){1, 0x0D, NULL, "USA MEX", NULL, 0}, "0x0D");          /* GENC two-letter */
  st0102_bad(&(sec){1, 0x0E, NULL, "USA XYZ", NULL, 0}, "'XYZ'");
  st0102_bad(&(sec){1, 0x0E, NULL, "usa mex", NULL, 0}, "'usa'");
  st0102_bad(&(sec){1, 0x0E, NULL, "REL TO USA, MEX", NULL, 0}, "'REL'");
  st0102_bad(&(sec){1, 0x0E, NULL, "USA, MEX", NULL, 0}, "'USA,'");
  st0102_bad(&(sec){1, 0x0E, NULL, "US MX", NULL, 0}, "'US'");
  st0102_bad(&(sec){1, 0x0E, NULL, "USA NOFORN", NULL, 0}, "NOFORN must stand alone");
  st0102_bad(&(sec){1, 0x0E, "NOPE", "USA MEX", NULL, 0}, "'NOPE'");
  st0102_bad(&(sec){1, 0x0E, "fouo", "USA MEX", NULL, 0}, "'fouo'");
  st0102_bad(&(sec){4, 0x0E, NULL, "USA MEX", "SI-G", 0}, "'SI-G'");
  st0102_bad(&(sec){1, 0x0E, NULL, "USA MEX", NULL, 1}, "tag 6 appears 2 times");
  /* no set, no output */
  {
    vg_marking m;
    assert_int_equal(vg_marking_from_st0102(NULL, &m), VG_E_INVALID);
    assert_unmarked(&m);
  }
}

/* The marking cache: a second collection answers from the cache; an observation joining a site
 * (its count changes) makes it derive again, and the new marking is the one used. */
static void test_marking_cache(void **state)
{
  char dir[] = "/tmp/vg_mcache_XXXXXX", db[96];
  vg_register *reg = NULL;
  vg_marking_cache *mc = NULL;
  vg_product_site *v = NULL;
  size_t n = 0;
  uint64_t hits, misses;
  const double box[4] = {-90, 90, -180, 180};
  vg_recipient mex = {"MEX", VG_CLASS_U};
  vg_fuse_params fp;
  vg_obs o;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(db, sizeof db, "%s/r.db", dir);
  assert_int_equal(vg_register_open(&reg, db), VG_OK);
  vg_fuse_params_default(&fp);
  memset(&o, 0, sizeof o);
  snprintf(o.flight, sizeof o.flight, "f1");
  snprintf(o.detector, sizeof o.detector, "spectral");
  o.kind = VG_EVID_SPECTRAL;
  o.lat = 17.85;
  o.lon = -99.95;
  o.cov_en[0] = o.cov_en[3] = 16;
  o.marking = "UNCLASSIFIED//REL TO USA, MEX";
  assert_int_equal(vg_register_ingest(reg, &o, 1, &fp, NULL), VG_OK);
  assert_int_equal(vg_marking_cache_new(&mc), VG_OK);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(vg_products_collect_cached(reg, box, &mex, NULL, NULL, mc, &v, &n), VG_OK);
    assert_int_equal(n, 1);
    free(v);
  }
  vg_marking_cache_stats(mc, &hits, &misses);
  assert_int_equal(misses, 1);
  assert_int_equal(hits, 2);
  /* a NOFORN source joins the site: derived again, and no longer released */
  snprintf(o.flight, sizeof o.flight, "f2");
  o.marking = "SECRET//NOFORN";
  assert_int_equal(vg_register_ingest(reg, &o, 1, &fp, NULL), VG_OK);
  assert_int_equal(vg_products_collect_cached(reg, box, &mex, NULL, NULL, mc, &v, &n), VG_OK);
  assert_int_equal(n, 0);
  free(v);
  vg_marking_cache_stats(mc, &hits, &misses);
  assert_int_equal(misses, 2);
  vg_marking_cache_free(mc);
  vg_register_close(reg);
  unlink(db);
  {
    char side[128];
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
  }
  rmdir(dir);
}

int test_products_marking_run(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_genc3),
      cmocka_unit_test(test_genc3_iso_file),
      cmocka_unit_test(test_valid),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_format_invalid),
      cmocka_unit_test(test_invalid),
      cmocka_unit_test(test_derive),
      cmocka_unit_test(test_derive_pairs),
      cmocka_unit_test(test_release_matrix),
      cmocka_unit_test(test_release_edges),
      cmocka_unit_test(test_st0102),
      cmocka_unit_test(test_marking_cache),
  };
  return cmocka_run_group_tests_name("products_marking", tests, NULL, NULL);
}
