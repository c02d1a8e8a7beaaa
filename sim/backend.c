/*
 * backend.c - the registry of the simulator's back ends (sim.h): one table,
 * found by name, versions checked. Each back end is a file of its own
 * (be_fixed.c, be_model.c, be_measured.c) defining one sim_backend_ops.
 *
 * Adding a back end: write sim/be_NAME.c defining
 * `const sim_backend_ops sim_backend_NAME` (designated initializers,
 * .version = SIM_BACKEND_VERSION), declare it in sim.h and add one line to
 * the table below; tests/test_backends.c then runs its conformance suite
 * over it with the others.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <string.h>

static const sim_backend_ops *const backends[] = {
    &sim_backend_fixed,
    &sim_backend_model,
    &sim_backend_measured,
    &sim_backend_measured_solo,
    &sim_backend_measured_mean,
    NULL,
};

const sim_backend_ops *const *sim_backend_all(void) { return backends; }

const sim_backend_ops *sim_backend_find(const char *name)
{
    for (size_t i = 0; backends[i]; i++)
        if (!strcmp(backends[i]->name, name))
            return backends[i]->version == SIM_BACKEND_VERSION ? backends[i]
                                                               : NULL;
    return NULL;
}

static const char *backend_name(const void *ctx, size_t i)
{
    (void)ctx;
    return backends[i]->name;
}

const char *sim_backend_names(char *out, size_t n)
{
    return ut_names(out, n, backend_name, NULL,
                    sizeof backends / sizeof *backends - 1);
}
