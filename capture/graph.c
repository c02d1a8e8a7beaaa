/*
 * graph.c - layer graphs: JSON in, shapes, parameters and FLOPs out
 * (capture.h). CPU only: the CI checks every model's figures against the
 * published ones without a GPU.
 */
#include "capture/capture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *op_names[CAP_NOPS] = {
    "conv", "bn", "relu", "maxpool", "avgpool", "fc", "add", "l2norm",
    "tokens", "encoder", "layernorm",
};

const char *cap_op_name(cap_op op)
{
    return op < CAP_NOPS ? op_names[op] : "?";
}

void cap_graph_free(cap_graph *g)
{
    free(g->l);
    memset(g, 0, sizeof *g);
}

int cap_graph_find(const cap_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->l[i].name, name))
            return (int)i;
    return -1;
}

long cap_layer_size(const cap_layer *l)
{
    return (long)l->c * l->h * l->w;
}

/* An optional integer member: absent gives def. */
static int opt_int(const cJSON *o, const char *key, const char *where,
                   long lo, long hi, int def, int *out, ut_err *err)
{
    if (!cJSON_GetObjectItemCaseSensitive(o, key)) {
        *out = def;
        return 0;
    }
    long v;
    if (ut_json_int(o, key, where, lo, hi, &v, err) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int opt_bool(const cJSON *o, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return v ? cJSON_IsTrue(v) : def;
}

/* Output size of a window op along one axis (PyTorch's rule, ceil mode
 * included: a window may not start in the right padding). */
static int window_out(int in, int k, int s, int p, int d, int ceil_mode)
{
    int span = in + 2 * p - d * (k - 1) - 1;
    if (span < 0)
        return 0;
    int out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

/* Shapes, parameters and FLOPs of layer i from its inputs'. */
static int infer(cap_graph *g, size_t i, const char *where, ut_err *err)
{
    cap_layer *l = &g->l[i];
    int c, h, w;
    if (l->in[0] < 0) {
        c = g->in_c;
        h = g->in_h;
        w = g->in_w;
    } else {
        const cap_layer *a = &g->l[l->in[0]];
        c = a->c;
        h = a->h;
        w = a->w;
    }
    l->c = c;
    l->h = h;
    l->w = w;
    switch (l->op) {
    case CAP_CONV: {
        if (c % l->groups || l->out % l->groups)
            return ut_errf(err, "%s.groups: expected a divisor of %d input "
                           "and %d output channels, got %d", where, c,
                           l->out, l->groups);
        l->c = l->out;
        l->h = window_out(h, l->kernel, l->stride, l->pad, l->dilation, 0);
        l->w = window_out(w, l->kernel, l->stride, l->pad, l->dilation, 0);
        long wts = (long)l->out * (c / l->groups) * l->kernel * l->kernel;
        l->params = wts + (l->bias ? l->out : 0);
        l->flops = 2.0 * (double)wts * l->h * l->w;
        break;
    }
    case CAP_BN:
    case CAP_L2NORM:
        l->params = l->op == CAP_BN ? 2L * c : c;
        l->flops = 2.0 * c * h * w;
        break;
    case CAP_RELU:
        l->flops = (double)c * h * w;
        break;
    case CAP_MAXPOOL:
        l->h = window_out(h, l->kernel, l->stride, l->pad, 1, l->ceil);
        l->w = window_out(w, l->kernel, l->stride, l->pad, 1, l->ceil);
        l->flops = (double)c * l->h * l->w * l->kernel * l->kernel;
        break;
    case CAP_AVGPOOL:
        l->h = l->w = l->out;
        l->flops = (double)c * h * w;
        break;
    case CAP_FC: {
        long in = l->token >= 0 && w == 1 ? c : (long)c * h * w;
        l->params = in * l->out + l->out;
        l->flops = 2.0 * (double)in * l->out;
        l->c = l->out;
        l->h = l->w = 1;
        break;
    }
    case CAP_ADD: {
        const cap_layer *b = l->in[1] < 0 ? NULL : &g->l[l->in[1]];
        if (l->nin != 2 || !b || b->c != c || b->h != h || b->w != w)
            return ut_errf(err, "%s: expected two inputs of the same shape, "
                           "got %dx%dx%d and %dx%dx%d", where, c, h, w,
                           b ? b->c : 0, b ? b->h : 0, b ? b->w : 0);
        l->flops = (double)c * h * w;
        break;
    }
    case CAP_TOKENS:
        l->c = c;
        l->h = h * w + (l->cls ? 1 : 0);
        l->w = 1;
        l->params = (long)l->h * c + (l->cls ? c : 0);
        l->flops = (double)l->h * c;
        break;
    case CAP_ENCODER: {
        long d = c, t = h, m = l->mlp;
        if (w != 1 || d % l->heads)
            return ut_errf(err, "%s: expected a token sequence whose width "
                           "(%ld) the %d heads divide, got %dx%dx%d", where,
                           d, l->heads, c, h, w);
        /* two layer norms, q k v and output projections, the MLP */
        l->params = 4 * d + 4 * d * d + 4 * d + 2 * d * m + m + d;
        l->flops = 2.0 * t * (4.0 * d * d + 2.0 * d * m) +
                   2.0 * 2.0 * (double)t * t * d;
        break;
    }
    case CAP_LAYERNORM:
        l->params = 2L * c;
        l->flops = 5.0 * c * h * w;
        break;
    case CAP_NOPS:
        break;
    }
    if (l->c <= 0 || l->h <= 0 || l->w <= 0)
        return ut_errf(err, "%s: expected a non-empty output, got %dx%dx%d "
                       "from a %dx%dx%d input", where, l->c, l->h, l->w, c,
                       h, w);
    return 0;
}

static int input_of(cap_graph *g, const cJSON *v, const char *where,
                    int *out, ut_err *err)
{
    if (!cJSON_IsString(v)) {
        char d[64];
        return ut_errf(err, "%s.input: expected a layer name, got %s", where,
                       ut_json_describe(v, d, sizeof d));
    }
    if (!strcmp(v->valuestring, "input")) {
        *out = -1;
        return 0;
    }
    int k = cap_graph_find(g, v->valuestring);
    if (k < 0)
        return ut_errf(err, "%s.input: expected an earlier layer, got \"%s\"",
                       where, v->valuestring);
    *out = k;
    return 0;
}

static int load_layer(cap_graph *g, const cJSON *o, size_t i,
                      const char *path, ut_err *err)
{
    cap_layer *l = &g->l[i];
    char where[160];
    snprintf(where, sizeof where, "%s: layers[%zu]", path, i);
    const char *s;
    if (!cJSON_IsObject(o))
        return ut_errf(err, "%s: expected an object", where);
    if (ut_json_str(o, "op", where, &s, err) < 0)
        return -1;
    int op = 0;
    while (op < CAP_NOPS && strcmp(op_names[op], s))
        op++;
    if (op == CAP_NOPS)
        return ut_errf(err, "%s.op: expected one of conv, bn, relu, maxpool, "
                       "avgpool, fc, add, l2norm, tokens, encoder, layernorm, "
                       "got \"%s\"", where, s);
    l->op = (cap_op)op;
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (nm) {
        if (ut_json_str(o, "name", where, &s, err) < 0)
            return -1;
        if (strlen(s) >= CAP_NAME_MAX || !strcmp(s, "input") ||
            cap_graph_find(g, s) >= 0)
            return ut_errf(err, "%s.name: expected a new name of at most %d "
                           "characters, got \"%.40s\"", where,
                           CAP_NAME_MAX - 1, s);
        strcpy(l->name, s);
    } else {
        snprintf(l->name, sizeof l->name, "%s@%zu", op_names[op], i);
    }
    snprintf(where, sizeof where, "%s: layers[%zu] (%s)", path, i, l->name);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "input");
    l->nin = 1;
    l->in[0] = (int)i - 1;
    l->in[1] = -1;
    if (cJSON_IsArray(in)) {
        if (cJSON_GetArraySize(in) < 1 || cJSON_GetArraySize(in) > 2)
            return ut_errf(err, "%s.input: expected one or two layer names",
                           where);
        l->nin = cJSON_GetArraySize(in);
        for (int k = 0; k < l->nin; k++)
            if (input_of(g, cJSON_GetArrayItem(in, k), where, &l->in[k],
                         err) < 0)
                return -1;
    } else if (in && input_of(g, in, where, &l->in[0], err) < 0) {
        return -1;
    }
    int need_out = op == CAP_CONV || op == CAP_FC || op == CAP_AVGPOOL;
    int windowed = op == CAP_CONV || op == CAP_MAXPOOL;
    if (opt_int(o, "out", where, 1, 1 << 20, need_out ? 0 : 1, &l->out,
                err) ||
        opt_int(o, "kernel", where, 1, 1024, windowed ? 0 : 1, &l->kernel,
                err) ||
        opt_int(o, "stride", where, 1, 1024, 1, &l->stride, err) ||
        opt_int(o, "pad", where, 0, 1024, 0, &l->pad, err) ||
        opt_int(o, "dilation", where, 1, 1024, 1, &l->dilation, err) ||
        opt_int(o, "groups", where, 1, 1 << 20, 1, &l->groups, err) ||
        opt_int(o, "heads", where, 1, 1024, 1, &l->heads, err) ||
        opt_int(o, "mlp", where, 1, 1 << 20, 1, &l->mlp, err) ||
        opt_int(o, "token", where, 0, 1 << 20, -1, &l->token, err))
        return -1;
    if ((need_out && l->out == 0) || (windowed && l->kernel == 0))
        return ut_errf(err, "%s.%s: expected a positive integer, got nothing "
                       "(missing field)", where,
                       need_out && l->out == 0 ? "out" : "kernel");
    l->bias = opt_bool(o, "bias", 1);
    l->ceil = opt_bool(o, "ceil", 0);
    l->cls = opt_bool(o, "cls", 0);
    if (op == CAP_ENCODER && !cJSON_GetObjectItemCaseSensitive(o, "mlp"))
        return ut_errf(err, "%s.mlp: expected a positive integer, got nothing "
                       "(missing field)", where);
    return infer(g, i, where, err);
}

int cap_graph_load(const char *path, cap_graph *g, ut_err *err)
{
    memset(g, 0, sizeof *g);
    cJSON *root = ut_json_load(path, err);
    if (!root)
        return -1;
    const char *name;
    double shape[3];
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (ut_json_str(root, "name", path, &name, err) < 0 ||
        ut_json_numarr(root, "input", path, shape, 3, NULL, err) < 0)
        goto fail;
    snprintf(g->name, sizeof g->name, "%s", name);
    for (int k = 0; k < 3; k++)
        if (!(shape[k] >= 1) || shape[k] != floor(shape[k]) || shape[k] > 1e5) {
            ut_errf(err, "%s.input[%d]: expected a positive integer, got %g",
                    path, k, shape[k]);
            goto fail;
        }
    g->in_c = (int)shape[0];
    g->in_h = (int)shape[1];
    g->in_w = (int)shape[2];
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1) {
        ut_errf(err, "%s: layers: expected a non-empty array", path);
        goto fail;
    }
    g->l = ut_xcalloc((size_t)cJSON_GetArraySize(layers), sizeof *g->l);
    const cJSON *o;
    cJSON_ArrayForEach(o, layers) {
        if (load_layer(g, o, g->n, path, err) < 0)
            goto fail;
        g->params += g->l[g->n].params;
        g->flops += g->l[g->n].flops;
        g->n++;
    }
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    if (outs) {
        const cJSON *e;
        cJSON_ArrayForEach(e, outs) {
            int k = cJSON_IsString(e) ? cap_graph_find(g, e->valuestring) : -1;
            if (k < 0 || g->nout == CAP_MAX_OUTPUTS) {
                char d[64];
                ut_errf(err, "%s: outputs[%zu]: expected a layer name, got %s",
                        path, g->nout, ut_json_describe(e, d, sizeof d));
                goto fail;
            }
            g->out[g->nout++] = k;
        }
    } else {
        g->out[g->nout++] = (int)g->n - 1;
    }
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    cap_graph_free(g);
    return -1;
}
