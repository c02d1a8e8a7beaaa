/*
 * test_capture.c - the layer graphs of the capture tool (capture/graph.c),
 * without a GPU: every model's parameter count equals the published figure
 * of the torchvision model of the same architecture, output shapes are the
 * expected ones (1000 classes; SSD-300's 8,732 anchors), the FLOPs agree
 * with the usual multiply-add counts, and bad graphs are refused with a
 * message naming the file, the layer and the field.
 */
#include "testutil.h"
#include "capture/capture.h"

static cap_graph load(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "capture/models/%s.json", name);
    cap_graph g;
    ut_err err;
    if (cap_graph_load(path, &g, &err) < 0)
        fail_msg("%s", err.msg);
    return g;
}

static void test_parameter_counts_match_published(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        long params;
    } want[] = {
        {"alexnet", 61100840},    /* torchvision model documentation */
        {"resnet50", 25557032},
        {"vgg19", 143667240},
        {"ssd300", 35641826},     /* ssd300_vgg16, 91 classes */
        {"vit_b16", 86567656},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cap_graph g = load(want[i].name);
        if (g.params != want[i].params)
            fail_msg("%s: %ld parameters, published %ld", want[i].name,
                     g.params, want[i].params);
        cap_graph_free(&g);
    }
}

static void test_output_shapes(void **state)
{
    (void)state;
    static const char *cls[] = {"alexnet", "resnet50", "vgg19", "vit_b16"};
    for (size_t i = 0; i < 4; i++) {
        cap_graph g = load(cls[i]);
        assert_int_equal(g.nout, 1);
        const cap_layer *o = &g.l[g.out[0]];
        assert_int_equal(cap_layer_size(o), 1000);
        cap_graph_free(&g);
    }
    cap_graph g = load("ssd300");
    assert_int_equal(g.nout, 12);
    long anchors = 0, boxes = 0;
    static const int maps[6] = {38, 19, 10, 5, 3, 1};
    for (size_t k = 0; k < g.nout; k += 2) {
        const cap_layer *c = &g.l[g.out[k]], *r = &g.l[g.out[k + 1]];
        assert_int_equal(c->h, maps[k / 2]);
        anchors += cap_layer_size(c) / 91;
        boxes += cap_layer_size(r) / 4;
    }
    assert_int_equal(anchors, 8732);
    assert_int_equal(boxes, 8732);
    /* ResNet-50: the last stage is 2048 x 7 x 7 before pooling */
    cap_graph r = load("resnet50");
    const cap_layer *last = &r.l[cap_graph_find(&r, "l4b2add")];
    assert_true(last->c == 2048 && last->h == 7 && last->w == 7);
    /* ViT-B/16: 197 tokens of 768 */
    cap_graph v = load("vit_b16");
    const cap_layer *t = &v.l[cap_graph_find(&v, "tokens")];
    assert_true(t->c == 768 && t->h == 197 && t->w == 1);
    cap_graph_free(&g);
    cap_graph_free(&r);
    cap_graph_free(&v);
}

/* FLOPs: twice the usual multiply-accumulate counts (ResNet-50 4.1 G,
 * VGG-19 19.6 G, ViT-B/16 17.6 G), within 2 % (they differ in whether
 * pooling, activations and normalisation are counted). */
static void test_flops(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double gmacs;
    } want[] = {{"resnet50", 4.09}, {"vgg19", 19.6}, {"vit_b16", 17.56},
                {"alexnet", 0.714}};
    for (size_t i = 0; i < 4; i++) {
        cap_graph g = load(want[i].name);
        assert_close(g.flops / 2e9, want[i].gmacs, 0.02);
        cap_graph_free(&g);
    }
}

static void bad_graph(const char *text, const char *f1, const char *f2)
{
    char *p = tu_write_temp("bad-model.json", text);
    cap_graph g;
    ut_err err;
    assert_int_equal(cap_graph_load(p, &g, &err), -1);
    if (!strstr(err.msg, p) || !strstr(err.msg, f1) ||
        (f2 && !strstr(err.msg, f2)))
        fail_msg("expected \"%s\" and \"%s\" in: %s", f1, f2 ? f2 : "",
                 err.msg);
    free(p);
}

static void test_bad_graphs(void **state)
{
    (void)state;
    bad_graph("{\"name\":\"m\",\"input\":[3,32,32],\"layers\":["
              "{\"op\":\"conv\",\"out\":8}]}", "layers[0]", "kernel");
    bad_graph("{\"name\":\"m\",\"input\":[3,32,32],\"layers\":["
              "{\"op\":\"softplus\"}]}", "layers[0].op", "\"softplus\"");
    bad_graph("{\"name\":\"m\",\"input\":[3,32,32],\"layers\":["
              "{\"op\":\"relu\",\"input\":\"nowhere\"}]}", "input",
              "\"nowhere\"");
    bad_graph("{\"name\":\"m\",\"input\":[3,32,32],\"layers\":["
              "{\"name\":\"a\",\"op\":\"conv\",\"out\":8,\"kernel\":3},"
              "{\"name\":\"b\",\"op\":\"conv\",\"out\":8,\"kernel\":1,"
              "\"input\":\"input\"},"
              "{\"op\":\"add\",\"input\":[\"a\",\"b\"]}]}", "layers[2]",
              "same shape");
    bad_graph("{\"name\":\"m\",\"input\":[3,4,4],\"layers\":["
              "{\"name\":\"big\",\"op\":\"conv\",\"out\":8,\"kernel\":7}]}",
              "(big)", "non-empty output");
    bad_graph("{\"name\":\"m\",\"input\":[3,0,4],\"layers\":[{\"op\":\"relu\"}]}",
              "input[1]", "got 0");
    bad_graph("{\"name\":\"m\",\"input\":[3,8,8],\"outputs\":[\"zz\"],"
              "\"layers\":[{\"op\":\"relu\"}]}", "outputs[0]", "\"zz\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts_match_published),
        cmocka_unit_test(test_output_shapes),
        cmocka_unit_test(test_flops),
        cmocka_unit_test(test_bad_graphs),
    };
    return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
