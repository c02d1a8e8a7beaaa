/*
 * plugin.c - loads the GPU device of `igniter serve`: the plug-in
 * build/libigniter-gpu.so (serve/gpu.cu, `make capture`), which the
 * CUDA-free igniter opens at run time, and whose table must match the
 * headers this igniter was built with (serve.h's version rule).
 */
#include "serve/serve.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EXE_PATH_MAX 4096

/* libigniter-gpu.so in the folder of the running executable, into buf
 * (n bytes); -1 with err if that path does not fit. */
static int beside_exe(char *buf, size_t n, ut_err *err)
{
    static const char lib[] = "libigniter-gpu.so";
    ssize_t k = readlink("/proc/self/exe", buf, n);
    if (k < 0)
        k = 0;          /* no /proc: dlopen searches the library path */
    size_t dir = (size_t)k < n ? (size_t)k : 0;   /* after the last '/' */
    while (dir > 0 && buf[dir - 1] != '/')
        dir--;
    if ((size_t)k >= n || dir + sizeof lib > n)
        return ut_errf(err, "the GPU library: the path beside this program "
                       "is longer than %zu bytes", n - 1);
    memcpy(buf + dir, lib, sizeof lib);
    return 0;
}

/* Compares one size of the library's table with ours. */
static int same_size(const char *path, const char *what, size_t lib,
                     size_t ours, ut_err *err)
{
    if (lib == ours)
        return 0;
    return ut_errf(err, "%s: built against plug-in version %d with "
                   "sizeof (%s) %zu, expected %zu (a layout change without a "
                   "version bump): rebuild with `make capture`", path,
                   SRV_GPU_PLUGIN_VERSION, what, lib, ours);
}

/*
 * dlopen with RTLD_LOCAL: the library's own copies of util/ and capture/
 * must not stand in for this program's. The table's version is checked
 * before anything else of it is read: a table of another version may be
 * shorter, and only version and plugin_size are at fixed places in every
 * version.
 */
int srv_gpu_load(const char *path, const srv_gpu_plugin **out,
                 void **handle, ut_err *err)
{
    char buf[EXE_PATH_MAX];
    *out = NULL;
    *handle = NULL;
    if (!path) {
        if (beside_exe(buf, sizeof buf, err) < 0)
            return -1;
        path = buf;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return ut_errf(err, "the GPU library: %s (build it with `make "
                       "capture` on a machine with nvcc and cuDNN; see "
                       "capture/README.md)", dlerror());
    const srv_gpu_plugin *p = dlsym(h, SRV_GPU_PLUGIN_SYMBOL);
    int rc = 0;
    if (!p)
        rc = ut_errf(err, "%s: built against plug-in version 0 (no %s), "
                     "expected %d: rebuild with `make capture`", path,
                     SRV_GPU_PLUGIN_SYMBOL, SRV_GPU_PLUGIN_VERSION);
    else if (p->version != SRV_GPU_PLUGIN_VERSION)
        rc = ut_errf(err, "%s: built against plug-in version %d, expected "
                     "%d: rebuild with `make capture`", path, p->version,
                     SRV_GPU_PLUGIN_VERSION);
    else if (same_size(path, "srv_gpu_plugin", p->plugin_size,
                       sizeof(srv_gpu_plugin), err) < 0 ||
             same_size(path, "srv_device", p->device_size,
                       sizeof(srv_device), err) < 0 ||
             same_size(path, "srv_gpu_opts", p->opts_size,
                       sizeof(srv_gpu_opts), err) < 0 ||
             same_size(path, "pol_plan", p->plan_size, sizeof(pol_plan),
                       err) < 0 ||
             same_size(path, "pol_gpu", p->gpu_size, sizeof(pol_gpu),
                       err) < 0 ||
             same_size(path, "pol_instance", p->instance_size,
                       sizeof(pol_instance), err) < 0 ||
             same_size(path, "ut_err", p->err_size, sizeof(ut_err),
                       err) < 0)
        rc = -1;
    else if (!p->device_new || !p->device_free)
        rc = ut_errf(err, "%s: plug-in version %d without device_new or "
                     "device_free: rebuild with `make capture`", path,
                     p->version);
    if (rc < 0) {
        dlclose(h);
        return -1;
    }
    *out = p;
    *handle = h;
    return 0;
}

void srv_gpu_unload(void *handle)
{
    if (handle)
        dlclose(handle);
}
