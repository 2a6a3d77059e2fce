/* Kernel sources (embedded at build time), programs built lazily once per (file, defines)
 * and cached for the context's lifetime, kernels cached per program. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct sc_cl_source {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct sc_cl_source sc_cl_sources[];

typedef struct kernel_entry {
    char name[64];
    cl_kernel kernel;
    struct kernel_entry *next;
} kernel_entry;

typedef struct program_entry {
    char *file;
    char *defines;
    cl_program program;
    kernel_entry *kernels;
    struct program_entry *next;
} program_entry;

struct sc_program_cache {
    program_entry *head;
};

/* Sources read from $SIAMCL_CL_DIR are kept for the process's lifetime (developer switch). */
typedef struct disk_source {
    char name[64];
    char *text;
    size_t len;
    struct disk_source *next;
} disk_source;
static disk_source *disk_sources;

static const char *read_disk_source(const char *dir, const char *file, size_t *len)
{
    for (disk_source *d = disk_sources; d; d = d->next)
        if (strcmp(d->name, file) == 0) {
            *len = d->len;
            return d->text;
        }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.cl", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    disk_source *d = calloc(1, sizeof *d);
    char *text = malloc((size_t)size + 1);
    if (!d || !text || size < 0 || fread(text, 1, (size_t)size, f) != (size_t)size) {
        free(d);
        free(text);
        fclose(f);
        return NULL;
    }
    fclose(f);
    text[size] = '\0';
    snprintf(d->name, sizeof d->name, "%s", file);
    d->text = text;
    d->len = (size_t)size;
    d->next = disk_sources;
    disk_sources = d;
    *len = d->len;
    return text;
}

const char *sc_cl_source(const char *file, size_t *len)
{
    const char *dir = getenv("SIAMCL_CL_DIR");
    if (dir && *dir)
        return read_disk_source(dir, file, len);
    for (const struct sc_cl_source *s = sc_cl_sources; s->name; s++)
        if (strcmp(s->name, file) == 0) {
            *len = s->len;
            return s->text;
        }
    return NULL;
}

static int build_program(sc_ctx *ctx, program_entry *p)
{
    size_t len;
    const char *src = sc_cl_source(p->file, &len);
    if (!src)
        return sc_fail("no kernel source cl/%s.cl (not embedded%s)", p->file,
                       getenv("SIAMCL_CL_DIR") ? ", and not in $SIAMCL_CL_DIR" : "");
    const char *defs = p->defines ? p->defines : "";
    const char *strings[2] = {defs, src};
    size_t lens[2] = {strlen(defs), len};
    cl_int err;
    p->program = clCreateProgramWithSource(ctx->context, 2, strings, lens, &err);
    SC_CL_ERR(err, "clCreateProgramWithSource");
    /* -w: compilers print warnings straight to the user's terminal (PoCL's clang flags
     * every float16 builtin as an AVX ABI change, harmless once inlined). The kernels'
     * real warnings are caught before they ship: scripts/check_cl.sh compiles each file as
     * strict OpenCL C 1.2 with -Werror in CI. Errors still fail the build with its log.
     * SC_CPU_HINTS: CPU compilers (PoCL, Intel's) are clang and take __builtin_prefetch
     * and __builtin_nontemporal_store; a GPU compiler may not know them, nor may a CPU
     * runtime that is not clang: a failed build with them is retried without (the hints
     * only change speed; check_cl.sh compiles both forms, so this hides no kernel bug). */
    const char *plain = "-cl-std=CL1.2 -w";
    int cpu = (ctx->dev.type & CL_DEVICE_TYPE_CPU) != 0;
    err = clBuildProgram(p->program, 1, &ctx->dev.device,
                         cpu ? "-cl-std=CL1.2 -w -DSC_CPU_HINTS" : plain, NULL, NULL);
    if (err != CL_SUCCESS && cpu)
        err = clBuildProgram(p->program, 1, &ctx->dev.device, plain, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t log_len = 0;
        clGetProgramBuildInfo(p->program, ctx->dev.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
        char *log = malloc(log_len + 1);
        if (log) {
            clGetProgramBuildInfo(p->program, ctx->dev.device, CL_PROGRAM_BUILD_LOG, log_len, log,
                                  NULL);
            log[log_len] = '\0';
        }
        sc_fail("building cl/%s.cl failed: %s (%d) on %s\n--- defines ---\n%s--- build log ---\n%s",
                p->file, sc_cl_error_name(err), (int)err, ctx->dev.name, defs, log ? log : "(none)");
        free(log);
        clReleaseProgram(p->program);
        p->program = NULL;
        return SC_ERR;
    }
    return SC_OK;
}

static int same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static program_entry *find_program(sc_ctx *ctx, const char *file, const char *defines)
{
    if (!ctx->programs) {
        ctx->programs = calloc(1, sizeof *ctx->programs);
        if (!ctx->programs) {
            sc_fail("out of host memory");
            return NULL;
        }
    }
    for (program_entry *p = ctx->programs->head; p; p = p->next)
        if (strcmp(p->file, file) == 0 && same(p->defines, defines))
            return p;
    program_entry *p = calloc(1, sizeof *p);
    if (!p) {
        sc_fail("out of host memory");
        return NULL;
    }
    p->file = strdup(file);
    p->defines = defines ? strdup(defines) : NULL;
    if (!p->file || (defines && !p->defines) || build_program(ctx, p) != SC_OK) {
        if (!p->file || (defines && !p->defines))
            sc_fail("out of host memory");
        free(p->file);
        free(p->defines);
        free(p);
        return NULL;
    }
    p->next = ctx->programs->head;
    ctx->programs->head = p;
    return p;
}

cl_kernel sc_kernel(sc_ctx *ctx, const char *file, const char *defines, const char *name)
{
    program_entry *p = find_program(ctx, file, defines);
    if (!p)
        return NULL;
    for (kernel_entry *k = p->kernels; k; k = k->next)
        if (strcmp(k->name, name) == 0)
            return k->kernel;
    kernel_entry *k = calloc(1, sizeof *k);
    if (!k) {
        sc_fail("out of host memory");
        return NULL;
    }
    cl_int err;
    k->kernel = clCreateKernel(p->program, name, &err);
    if (err != CL_SUCCESS) {
        free(k);
        sc_fail("kernel '%s' in cl/%s.cl: clCreateKernel failed: %s (%d)", name, file,
                sc_cl_error_name(err), (int)err);
        return NULL;
    }
    snprintf(k->name, sizeof k->name, "%s", name);
    k->next = p->kernels;
    p->kernels = k;
    return k->kernel;
}

void sc_program_cache_free(struct sc_program_cache *cache)
{
    if (!cache)
        return;
    program_entry *p = cache->head;
    while (p) {
        program_entry *pn = p->next;
        for (kernel_entry *k = p->kernels, *kn; k; k = kn) {
            kn = k->next;
            clReleaseKernel(k->kernel);
            free(k);
        }
        clReleaseProgram(p->program);
        free(p->file);
        free(p->defines);
        free(p);
        p = pn;
    }
    free(cache);
}

int sc_kernel_args(cl_kernel k, int nargs, ...)
{
    va_list ap;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++) {
        size_t size = va_arg(ap, size_t);
        const void *ptr = va_arg(ap, const void *);
        cl_int err = clSetKernelArg(k, (cl_uint)i, size, ptr);
        if (err != CL_SUCCESS) {
            va_end(ap);
            char name[64] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            return sc_fail("clSetKernelArg(%s, arg %d, %zu bytes) failed: %s (%d)", name, i, size,
                           sc_cl_error_name(err), (int)err);
        }
    }
    va_end(ap);
    return SC_OK;
}

size_t sc_kernel_wg(sc_ctx *ctx, cl_kernel k, size_t preferred)
{
    size_t max = 0;
    if (clGetKernelWorkGroupInfo(k, ctx->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max,
                                 NULL) != CL_SUCCESS || max == 0)
        max = 1;
    if (max > ctx->dev.max_work_group)
        max = ctx->dev.max_work_group;
    size_t wg = preferred ? preferred : max;
    while (wg > max)
        wg /= 2;
    return wg ? wg : 1;
}

int sc_launch(sc_ctx *ctx, cl_kernel k, cl_uint dims, const size_t *global, const size_t *local,
              const char *label)
{
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0)
            return SC_OK; /* nothing to do: OpenCL rejects empty ranges */
    cl_event ev = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                        ctx->profile ? &ev : NULL);
    if (err != CL_SUCCESS) {
        char name[64] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        return sc_fail("launching kernel %s (%s) failed: %s (%d)%s", name, label ? label : "",
                       sc_cl_error_name(err), (int)err,
                       err == CL_OUT_OF_RESOURCES || err == CL_MEM_OBJECT_ALLOCATION_FAILURE
                           ? " (out of device memory or resources: lower batch or image size)"
                           : "");
    }
    if (ev)
        sc_profile_event(ctx, ev, label ? label : "kernel");
    return SC_OK;
}

int sc_launch_1d(sc_ctx *ctx, cl_kernel k, size_t n, const char *label)
{
    size_t wg = sc_kernel_wg(ctx, k, 256);
    size_t global = sc_round_up(n, wg);
    return sc_launch(ctx, k, 1, &global, &wg, label);
}

int sc_launch_2d(sc_ctx *ctx, cl_kernel k, int cols, int rows, const char *label)
{
    size_t wg = sc_kernel_wg(ctx, k, 256);
    size_t lx = wg < 16 ? wg : 16, ly = wg / lx;
    if (ly > 16)
        ly = 16;
    size_t local[2] = {lx, ly};
    size_t global[2] = {sc_round_up((size_t)cols, lx), sc_round_up((size_t)rows, ly)};
    return sc_launch(ctx, k, 2, global, local, label);
}
