/* Runtime internals shared between its files (not part of the public API). */
#ifndef SIAMCL_RUNTIME_INTERNAL_H
#define SIAMCL_RUNTIME_INTERNAL_H

#include "siamcl/runtime.h"

int sc_device_choose(const sc_device_info *list, int n, const char *selector, int *chosen,
                     char *warning, size_t wsize);
void sc_program_cache_free(struct sc_program_cache *cache);
void sc_profile_free(struct sc_profile *p);
int sc_profile_new(struct sc_profile **out);

#endif
