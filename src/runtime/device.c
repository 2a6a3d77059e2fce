/* Platform and device discovery, and the choice of one device. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siamcl/runtime.h"

const char *sc_device_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

static int fill_info(sc_device_info *d)
{
    SC_CL(clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof d->platform_name,
                            d->platform_name, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_NAME, sizeof d->name, d->name, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_VERSION, sizeof d->version, d->version, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DRIVER_VERSION, sizeof d->driver, d->driver, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof d->compute_units,
                          &d->compute_units, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof d->global_mem,
                          &d->global_mem, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc,
                          &d->max_alloc, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof d->local_mem,
                          &d->local_mem, NULL));
    SC_CL(clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_work_group,
                          &d->max_work_group, NULL));
    return SC_OK;
}

int sc_device_list(sc_device_info **out, int *count)
{
    cl_uint np = 0;
    *out = NULL;
    *count = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == -1001 || (err == CL_SUCCESS && np == 0))
        return sc_fail("no OpenCL platform found: install an OpenCL driver (ICD), e.g. "
                       "`apt-get install pocl-opencl-icd` for the CPU or your GPU vendor's "
                       "OpenCL package, then check with `clinfo`");
    SC_CL_ERR(err, "clGetPlatformIDs");
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return sc_fail("out of host memory");
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS) {
        free(plats);
        return sc_fail("clGetPlatformIDs failed");
    }
    sc_device_info *list = NULL;
    int n = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue; /* a platform without devices is not an error */
        cl_device_id *ids = calloc(nd, sizeof *ids);
        sc_device_info *grown = realloc(list, (n + nd) * sizeof *list);
        if (!ids || !grown) {
            free(ids);
            free(grown ? grown : list);
            free(plats);
            return sc_fail("out of host memory");
        }
        list = grown;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            sc_device_info *info = &list[n];
            memset(info, 0, sizeof *info);
            info->index = n;
            info->platform = plats[p];
            info->device = ids[d];
            if (fill_info(info) != SC_OK) {
                free(ids);
                free(list);
                free(plats);
                return SC_ERR;
            }
            n++;
        }
        free(ids);
    }
    free(plats);
    if (n == 0) {
        free(list);
        return sc_fail("OpenCL platforms found but no devices: check the driver with `clinfo`");
    }
    *out = list;
    *count = n;
    return SC_OK;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return nl == 0;
}

/* Picks one device from the list; see sc_ctx_create for the rules. */
int sc_device_choose(const sc_device_info *list, int n, const char *selector, int *chosen,
                     char *warning, size_t wsize)
{
    warning[0] = '\0';
    if (selector && *selector) {
        char *end;
        long idx = strtol(selector, &end, 10);
        if (*end == '\0') {
            if (idx < 0 || idx >= n)
                return sc_fail("device index %ld out of range: %d device(s) found "
                               "(`runexp --devices` lists them)", idx, n);
            *chosen = (int)idx;
            return SC_OK;
        }
        for (int i = 0; i < n; i++) {
            char full[300];
            snprintf(full, sizeof full, "%s %s", list[i].platform_name, list[i].name);
            if (contains_ci(full, selector)) {
                *chosen = i;
                return SC_OK;
            }
        }
        return sc_fail("no OpenCL device matches '%s' (`runexp --devices` lists them)", selector);
    }
    for (int i = 0; i < n; i++)
        if (list[i].type & CL_DEVICE_TYPE_GPU) {
            *chosen = i;
            return SC_OK;
        }
    *chosen = 0;
    snprintf(warning, wsize, "no OpenCL GPU found; using %s device '%s' (%s)",
             sc_device_type_name(list[0].type), list[0].name, list[0].platform_name);
    return SC_OK;
}
