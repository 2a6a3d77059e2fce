/* OpenCL runtime: device choice, context and queue, kernel programs built once and cached. */
#ifndef SIAMCL_RUNTIME_H
#define SIAMCL_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

#include "siamcl/error.h"

typedef struct sc_device_info {
    int index; /* position in the flat list over all platforms */
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[128];
    char name[128];
    char version[128]; /* "OpenCL 3.0 ..." */
    char driver[128];
    cl_device_type type;
    cl_uint compute_units;
    cl_ulong global_mem;
    cl_ulong max_alloc;
    cl_ulong local_mem;
    size_t max_work_group;
} sc_device_info;

/* All devices on all platforms; *out is malloc'ed (free it). Fails with a hint when no
 * OpenCL platform is installed (-1001). */
int sc_device_list(sc_device_info **out, int *count);
const char *sc_device_type_name(cl_device_type type);

struct sc_program_cache;
struct sc_profile;

typedef struct sc_ctx {
    sc_device_info dev;
    cl_context context;
    cl_command_queue queue; /* in-order; profiling enabled when SC_CTX_PROFILE */
    struct sc_program_cache *programs;
    struct sc_profile *profile; /* per-label kernel times, NULL unless profiling */
    char warning[256];          /* set when the choice fell back (no GPU, ...) */
    cl_mem gemm_part;           /* the split-K GEMM's partial sums, grown on demand */
    size_t gemm_part_bytes;
} sc_ctx;

enum { SC_CTX_PROFILE = 1 };

/* Chooses a device: `selector` is an index ("0") or a case-insensitive name substring
 * ("pthread", "NVIDIA"); NULL or "" falls back to $SIAMCL_DEVICE, then to the first GPU,
 * then to any device (with ctx->warning set). */
int sc_ctx_create(sc_ctx **out, const char *selector, unsigned flags);
void sc_ctx_destroy(sc_ctx *ctx);
int sc_ctx_finish(sc_ctx *ctx);

/* The kernel `name` from cl/<file>.cl, with `defines` (C preprocessor lines, may be NULL)
 * prepended. Programs are built lazily once per (file, defines) and cached; a failed build
 * records the full build log. Returns NULL on error. */
cl_kernel sc_kernel(sc_ctx *ctx, const char *file, const char *defines, const char *name);
/* The embedded source of cl/<file>.cl (or from $SIAMCL_CL_DIR when set), NULL if unknown. */
const char *sc_cl_source(const char *file, size_t *len);

/* Sets kernel arguments from (size, pointer) pairs: sc_kernel_args(k, 2, SC_ARG(buf), SC_ARG(n)). */
#define SC_ARG(x) sizeof(x), (const void *)&(x)
#define SC_LOCAL(bytes) (size_t)(bytes), (const void *)NULL
int sc_kernel_args(cl_kernel k, int nargs, ...);

/* Enqueues k; `local` may be NULL. `label` names the kernel family in profiles ("conv.im2col").
 * Never waits. */
int sc_launch(sc_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global, const size_t *local,
              const char *label);
/* A 1-D launch over n items and a 2-D one over a cols x rows matrix (square-ish groups of
 * up to 16 x 16): global sizes rounded up to the work-group, so kernels check their bounds. */
int sc_launch_1d(sc_ctx *ctx, cl_kernel k, size_t n, const char *label);
int sc_launch_2d(sc_ctx *ctx, cl_kernel k, int cols, int rows, const char *label);
/* Work-group size for a 1-D launch of k on this device (respects CL_KERNEL_WORK_GROUP_SIZE). */
size_t sc_kernel_wg(sc_ctx *ctx, cl_kernel k, size_t preferred);
static inline size_t sc_round_up(size_t n, size_t m) { return m ? (n + m - 1) / m * m : n; }

/* Records `event` (then releases it) under `label` when profiling. */
void sc_profile_event(sc_ctx *ctx, cl_event event, const char *label);
/* Records the span from the start of `first` to the end of `last` (then releases both):
 * for a library call that enqueues several kernels and returns the last one's event
 * (CLBlast), with `first` a marker enqueued just before it. */
void sc_profile_span(sc_ctx *ctx, cl_event first, cl_event last, const char *label);
/* Writes "label  calls  total ms  mean us" lines into buf, most expensive first. */
void sc_profile_report(sc_ctx *ctx, char *buf, size_t size);
void sc_profile_reset(sc_ctx *ctx);

/* OpenCL errors by symbolic name, with the call and its file:line. */
const char *sc_cl_error_name(cl_int err);
int sc_cl_fail(cl_int err, const char *call, const char *file, int line);
#define SC_CL(call)                                                      \
    do {                                                                 \
        cl_int sc_cl_err_ = (call);                                      \
        if (sc_cl_err_ != CL_SUCCESS)                                    \
            return sc_cl_fail(sc_cl_err_, #call, __FILE__, __LINE__);    \
    } while (0)
/* For calls that report through an errcode_ret argument. */
#define SC_CL_ERR(err, what)                                             \
    do {                                                                 \
        if ((err) != CL_SUCCESS)                                         \
            return sc_cl_fail((err), (what), __FILE__, __LINE__);        \
    } while (0)

#endif
