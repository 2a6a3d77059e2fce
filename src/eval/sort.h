/* Shared by the metric files: input validation and an index sort by distance. Private. */
#ifndef SIAMCL_EVAL_SORT_H
#define SIAMCL_EVAL_SORT_H

#include <stddef.h>

/* Labels 0/1 and finite distances; counts each label (either pointer may be NULL). */
int sc_eval_check(const double *dist, const int *label, size_t n, size_t *n_same,
                  size_t *n_diff);

/* malloc'ed indices 0..n-1 ordered by increasing distance (ties by index, so the order is
 * the same on every platform). NULL after sc_fail on a memory error. */
size_t *sc_eval_order(const double *dist, size_t n);

#endif
