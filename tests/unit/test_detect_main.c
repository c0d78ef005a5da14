/* The detect module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_detect_core_run();
  failed += test_detect_target_run();
  failed += test_detect_thermal_run();
  failed += test_detect_change_run();
  return failed ? 1 : 0;
}
