#include "testutil.h"

int main(void) { return test_util_run() ? 1 : 0; }
