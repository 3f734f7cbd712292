/* A main() for one Check unit-test program: each tests/unit/test_*.c defines
 * its suite function and ends with AH_CHECK_MAIN(that_function). */
#ifndef AH_CHECK_MAIN_H
#define AH_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

#define AH_CHECK_MAIN(suite_fn)                                                                    \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(suite_fn());                                                  \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                          \
    }

#endif
