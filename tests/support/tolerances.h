#ifndef SIAMCL_TEST_TOLERANCES_H
#define SIAMCL_TEST_TOLERANCES_H

typedef struct test_tol {
    const char *family;
    double abs, rel;
} test_tol;

/* NULL when the family is not in the table (a test bug: add the row). */
const test_tol *test_tol_for(const char *family);

#endif
