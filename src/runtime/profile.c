/* Kernel time per label from OpenCL profiling events. Events are kept until a report (or
 * until many are pending) so that profiling adds no host synchronisation per launch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_LABELS 128
#define MAX_PENDING 4096

typedef struct {
    char label[48];
    double total_ns;
    long calls;
} profile_row;

typedef struct {
    cl_event ev;
    cl_event first; /* NULL, or where the span starts (sc_profile_span) */
    int row;
} pending_event;

struct sc_profile {
    profile_row rows[MAX_LABELS];
    int nrows;
    pending_event pending[MAX_PENDING];
    int npending;
};

int sc_profile_new(struct sc_profile **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? SC_OK : sc_fail("out of host memory");
}

static void resolve(struct sc_profile *p)
{
    for (int i = 0; i < p->npending; i++) {
        cl_ulong start = 0, end = 0;
        cl_event ev = p->pending[i].ev, first = p->pending[i].first ? p->pending[i].first : ev;
        if (clWaitForEvents(1, &ev) == CL_SUCCESS &&
            clGetEventProfilingInfo(first, CL_PROFILING_COMMAND_START, sizeof start, &start,
                                    NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
                CL_SUCCESS &&
            end >= start) {
            p->rows[p->pending[i].row].total_ns += (double)(end - start);
            p->rows[p->pending[i].row].calls++;
        }
        clReleaseEvent(ev);
        if (p->pending[i].first)
            clReleaseEvent(p->pending[i].first);
    }
    p->npending = 0;
}

void sc_profile_free(struct sc_profile *p)
{
    if (!p)
        return;
    resolve(p);
    free(p);
}

void sc_profile_event(sc_ctx *ctx, cl_event event, const char *label)
{
    sc_profile_span(ctx, NULL, event, label);
}

void sc_profile_span(sc_ctx *ctx, cl_event first, cl_event event, const char *label)
{
    struct sc_profile *p = ctx->profile;
    if (!p || !event) {
        if (event)
            clReleaseEvent(event);
        if (first)
            clReleaseEvent(first);
        return;
    }
    int row = -1;
    for (int i = 0; i < p->nrows; i++)
        if (strcmp(p->rows[i].label, label) == 0) {
            row = i;
            break;
        }
    if (row < 0) {
        if (p->nrows < MAX_LABELS) {
            row = p->nrows++;
            snprintf(p->rows[row].label, sizeof p->rows[row].label, "%s", label);
        } else {
            row = MAX_LABELS - 1; /* more families than rows: lump the rest together */
        }
    }
    if (p->npending == MAX_PENDING)
        resolve(p);
    p->pending[p->npending].ev = event;
    p->pending[p->npending].first = first;
    p->pending[p->npending].row = row;
    p->npending++;
}

static int by_total(const void *a, const void *b)
{
    double x = ((const profile_row *)a)->total_ns, y = ((const profile_row *)b)->total_ns;
    return (x < y) - (x > y);
}

void sc_profile_report(sc_ctx *ctx, char *buf, size_t size)
{
    buf[0] = '\0';
    struct sc_profile *p = ctx->profile;
    if (!p || size == 0)
        return;
    clFinish(ctx->queue);
    resolve(p);
    profile_row rows[MAX_LABELS];
    memcpy(rows, p->rows, sizeof rows);
    qsort(rows, (size_t)p->nrows, sizeof rows[0], by_total);
    double all = 0;
    for (int i = 0; i < p->nrows; i++)
        all += rows[i].total_ns;
    size_t used = (size_t)snprintf(buf, size, "%-24s %8s %10s %10s %6s\n", "kernel family", "calls",
                                   "total ms", "mean us", "share");
    for (int i = 0; i < p->nrows && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%-24s %8ld %10.2f %10.1f %5.1f%%\n",
                                 rows[i].label, rows[i].calls, rows[i].total_ns / 1e6,
                                 rows[i].calls ? rows[i].total_ns / 1e3 / rows[i].calls : 0.0,
                                 all > 0 ? 100.0 * rows[i].total_ns / all : 0.0);
}

void sc_profile_reset(sc_ctx *ctx)
{
    struct sc_profile *p = ctx->profile;
    if (!p)
        return;
    clFinish(ctx->queue);
    resolve(p);
    memset(p->rows, 0, sizeof p->rows);
    p->nrows = 0;
}
