/* The klv module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_klv_core_run();
  failed += test_klv_st0601_run();
  failed += test_klv_st1201_run();
  failed += test_klv_st0102_run();
  failed += test_klv_st0903_run();
  failed += test_klv_eg0104_run();
  failed += test_klv_scan_run();
  return failed ? 1 : 0;
}
