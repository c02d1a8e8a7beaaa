/*
 * capture.h - the capture component: DNN layer graphs (CPU: parsing, shape
 * inference, parameter and FLOP counts) and, built only with CUDA
 * (`make capture`), the inference runner and the measurements of
 * `igniter-capture`.
 *
 * A model is a JSON layer graph (capture/models/NAME.json, written by
 * scripts/gen-models.py): an input shape and a list of layers, each with
 * an op, its parameters and its inputs (by default the layer before). The
 * same graph drives the runner and the checks of tests/test_capture.c.
 */
#ifndef CAP_CAPTURE_H
#define CAP_CAPTURE_H

#include <stddef.h>
#include "util/util.h"

#define CAP_NAME_MAX 48
#define CAP_MAX_OUTPUTS 16

typedef enum cap_op {
    CAP_CONV,       /* out, kernel, stride, pad, dilation, groups, bias */
    CAP_BN,         /* batch norm (inference: scale and shift per channel) */
    CAP_RELU,
    CAP_MAXPOOL,    /* kernel, stride, pad, ceil */
    CAP_AVGPOOL,    /* adaptive average pool to out x out */
    CAP_FC,         /* out; flattens its input; token: one token's vector */
    CAP_ADD,        /* two inputs of equal shape */
    CAP_L2NORM,     /* per-position L2 normalisation, a scale per channel */
    CAP_TOKENS,     /* C x H x W feature map -> (H W + cls) tokens of C,
                       plus a learned position embedding */
    CAP_ENCODER,    /* pre-norm transformer block: heads, mlp */
    CAP_LAYERNORM,
    CAP_NOPS
} cap_op;

/* Shapes are per request (the batch is the runner's): a feature map is
 * c x h x w; a token sequence is h tokens of c features (w = 1). */
typedef struct cap_layer {
    char name[CAP_NAME_MAX];
    cap_op op;
    int nin, in[2];          /* indices of earlier layers; -1: the input */
    int out, kernel, stride, pad, dilation, groups, bias, ceil, heads, mlp;
    int cls, token;          /* tokens: add a class token; fc: use token */
    int c, h, w;             /* output shape */
    long params;
    double flops;            /* multiply-adds x 2, per request */
} cap_layer;

typedef struct cap_graph {
    char name[CAP_NAME_MAX];
    int in_c, in_h, in_w;
    size_t n;
    cap_layer *l;
    size_t nout;
    int out[CAP_MAX_OUTPUTS];   /* output layers (default: the last) */
    long params;
    double flops;
} cap_graph;

/* Loads and checks a graph, inferring every shape; errors name the file,
 * the layer and the field: `alexnet.json: layers[3] (conv2).kernel:
 * expected a positive integer, got 0`, or a shape that does not fit. */
int cap_graph_load(const char *path, cap_graph *g, ut_err *err);
void cap_graph_free(cap_graph *g);
/* Index of the layer called name, or -1. */
int cap_graph_find(const cap_graph *g, const char *name);
const char *cap_op_name(cap_op op);
/* Elements of a layer's output per request. */
long cap_layer_size(const cap_layer *l);

#endif
