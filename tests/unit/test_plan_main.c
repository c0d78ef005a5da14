/* The planning module's test binary: runs every group of the module. */
#include "testutil.h"

int main(void)
{
  int failed = 0;
  failed += test_plan_core_run();
  failed += test_plan_schedule_run();
  failed += test_plan_mission_run();
  return failed ? 1 : 0;
}
