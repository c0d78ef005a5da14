/* The planning module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_plan_core_run();
  return failed ? 1 : 0;
}
