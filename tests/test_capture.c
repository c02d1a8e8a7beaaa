/*
 * test_capture.c - the layer graphs of the capture tool (capture/graph.c),
 * without a GPU: every model's parameter count equals the published figure
 * of the torchvision model of the same architecture, output shapes are the
 * expected ones (1000 classes; SSD-300's 8,732 anchors), the FLOPs agree
 * with the usual multiply-add counts, and bad graphs are refused with a
 * message naming the file, the layer and the field.
 *
 * Then the derivation (capture/derive.c, derive_raw.c), also without a
 * GPU: kernel statistics of synthetic CUPTI records (gaps, overlaps,
 * several inferences, bad counts), an Nsight Compute CSV in ncu's own
 * layout, and a synthetic raw capture derived into files that the model's
 * loaders read and fit, with bad raw files refused by line or by missing
 * step and the output folder left untouched.
 */
#define TU_SYNTH_RAW
#include "testutil.h"
#include "capture/capture.h"

#include <signal.h>
#include <time.h>
#include "model/model.h"

#include <dirent.h>

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


/* ---- kernel statistics -------------------------------------------------- */

static cap_kernel_rec kr(double s, double e)
{
    cap_kernel_rec k;
    memset(&k, 0, sizeof k);
    k.start_ms = s;
    k.end_ms = e;
    snprintf(k.name, sizeof k.name, "k");
    return k;
}

static void test_kernel_stats_gaps_and_overlaps(void **state)
{
    (void)state;
    /* one inference: [0,1] gap 0.5 [1.5,2] overlapping [1.8,2.5] (no gap),
     * contained [1.9,2.0], gap 0.25 [2.75,3] */
    cap_kernel_rec k[5] = {kr(0, 1), kr(1.5, 2), kr(1.8, 2.5), kr(1.9, 2.0),
                           kr(2.75, 3)};
    cap_kstats s;
    ut_err err;
    assert_int_equal(cap_kernel_stats(k, 5, 1, &s, &err), 0);
    assert_int_equal(s.kernels, 5);
    assert_close(s.active_ms, 1 + 1 + 0.25, 1e-12);
    assert_close(s.idle_ms, 0.75, 1e-12);
    assert_close(s.idle_per_kernel_ms, 0.75 / 5, 1e-12);
    /* a kernel that ends before the one before it does not open a gap */
    cap_kernel_rec c[3] = {kr(0, 2), kr(0.5, 1), kr(1.5, 2.5)};
    assert_int_equal(cap_kernel_stats(c, 3, 1, &s, &err), 0);
    assert_close(s.idle_ms, 0, 1e-12);
    assert_close(s.active_ms, 2.5, 1e-12);
}

static void test_kernel_stats_several_inferences(void **state)
{
    (void)state;
    /* three inferences of two kernels; the host time between inferences
     * (here 10 ms) is not idle time */
    cap_kernel_rec k[6] = {kr(0, 1), kr(1.2, 2),        /* gap 0.2 */
                           kr(12, 13), kr(13.4, 14),    /* gap 0.4 */
                           kr(24, 25), kr(25, 26)};     /* gap 0 */
    cap_kstats s;
    ut_err err;
    assert_int_equal(cap_kernel_stats(k, 6, 3, &s, &err), 0);
    assert_int_equal(s.kernels, 2);
    assert_close(s.idle_ms, 0.2, 1e-12);
    assert_close(s.active_ms, (1.8 + 1.6 + 2) / 3, 1e-12);
    assert_close(s.idle_per_kernel_ms, 0.1, 1e-12);
}

static void test_kernel_stats_bad_input(void **state)
{
    (void)state;
    cap_kernel_rec k[6] = {kr(0, 1), kr(1, 2), kr(2, 3), kr(3, 4), kr(4, 5),
                           kr(5, 6)};
    cap_kstats s;
    ut_err err;
    assert_int_equal(cap_kernel_stats(k, 5, 2, &s, &err), -1);
    if (!strstr(err.msg, "n = 5") || !strstr(err.msg, "iters (2)"))
        fail_msg("%s", err.msg);
    assert_int_equal(cap_kernel_stats(k, 0, 1, &s, &err), -1);
    assert_non_null(strstr(err.msg, "n = 0"));
    assert_int_equal(cap_kernel_stats(k, 6, 0, &s, &err), -1);
    assert_non_null(strstr(err.msg, "iters"));
    k[3] = kr(1.5, 4);   /* starts before the record before it */
    assert_int_equal(cap_kernel_stats(k, 6, 2, &s, &err), -1);
    assert_non_null(strstr(err.msg, "sorted"));
    k[3] = kr(3, 2.5);   /* ends before it starts */
    assert_int_equal(cap_kernel_stats(k, 6, 2, &s, &err), -1);
    assert_non_null(strstr(err.msg, "record 3"));
}

/* ---- Nsight Compute CSV ------------------------------------------------- */

#define NCU_HEAD "\"ID\",\"Process ID\",\"Process Name\",\"Host Name\"," \
    "\"Kernel Name\",\"Context\",\"Stream\",\"Block Size\",\"Grid Size\"," \
    "\"Device\",\"CC\",\"Section Name\",\"Metric Name\",\"Metric Unit\"," \
    "\"Metric Value\"\n"
#define NCU_ROW(id, kernel, metric, unit, value) \
    "\"" id "\",\"4242\",\"igniter-capture\",\"127.0.0.1\",\"" kernel "\"," \
    "\"1\",\"7\",\"(256, 1, 1)\",\"(1024, 1, 1)\",\"0\",\"9.0\"," \
    "\"Command line profiler metrics\",\"" metric "\",\"" unit "\",\"" \
    value "\"\n"
#define T "gpu__time_duration.sum"
#define H "lts__t_sector_hit_rate.pct"
#define L "lts__t_sectors.avg.pct_of_peak_sustained_elapsed"
#define D "dram__throughput.avg.pct_of_peak_sustained_elapsed"

static void test_ncu_parse_long_layout(void **state)
{
    (void)state;
    /* kernel 0: 1,500 ns; kernel 1: 4.5 us (a name with commas) */
    char *p = tu_write_temp("ncu.csv",
        "==PROF== Connected to process 4242 (/x/igniter-capture)\n"
        "==PROF== Profiling \"conv\" - 0: 0%....50%....100% - 1 pass\n"
        NCU_HEAD
        NCU_ROW("0", "conv", T, "nsecond", "1,500")
        NCU_ROW("0", "conv", H, "%", "80")
        NCU_ROW("0", "conv", L, "%", "10")
        NCU_ROW("0", "conv", D, "%", "40")
        NCU_ROW("1", "gemm<half, 128, 64>", T, "usecond", "4.5")
        NCU_ROW("1", "gemm<half, 128, 64>", H, "%", "60")
        NCU_ROW("1", "gemm<half, 128, 64>", L, "%", "30")
        NCU_ROW("1", "gemm<half, 128, 64>", "sm__cycles_elapsed.avg", "cycle",
                "9,999")
        NCU_ROW("1", "gemm<half, 128, 64>", D, "%", "20")
        "==PROF== Disconnected from process 4242\n");
    cap_ncu_summary s;
    ut_err err;
    if (cap_ncu_parse(p, &s, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.kernels, 2);
    assert_close(s.time_ms, 0.006, 1e-12);
    assert_close(s.l2_hit_pct, (1.5 * 80 + 4.5 * 60) / 6, 1e-12);
    assert_close(s.l2_util_pct, (1.5 * 10 + 4.5 * 30) / 6, 1e-12);
    assert_close(s.dram_util_pct, (1.5 * 40 + 4.5 * 20) / 6, 1e-12);
    free(p);
}

static void test_ncu_parse_wide_layout(void **state)
{
    (void)state;
    char *p = tu_write_temp("ncu-raw.csv",
        "\"ID\",\"Kernel Name\",\"" T "\",\"" H "\",\"" L "\",\"" D "\"\n"
        "\"\",\"\",\"msecond\",\"%\",\"%\",\"%\"\n"
        "\"0\",\"a\",\"1\",\"50\",\"10\",\"5\"\n"
        "\"1\",\"b\",\"3\",\"70\",\"20\",\"25\"\n");
    cap_ncu_summary s;
    ut_err err;
    if (cap_ncu_parse(p, &s, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(s.kernels, 2);
    assert_close(s.time_ms, 4, 1e-12);
    assert_close(s.l2_util_pct, 17.5, 1e-12);
    assert_close(s.dram_util_pct, 20, 1e-12);
    free(p);
}

static void bad_ncu(const char *text, const char *f1, const char *f2)
{
    char *p = tu_write_temp("bad-ncu.csv", text);
    cap_ncu_summary s;
    ut_err err;
    assert_int_equal(cap_ncu_parse(p, &s, &err), -1);
    if (!strstr(err.msg, p) || !strstr(err.msg, f1) ||
        (f2 && !strstr(err.msg, f2)))
        fail_msg("expected \"%s\" and \"%s\" in: %s", f1, f2 ? f2 : "",
                 err.msg);
    free(p);
}

static void test_ncu_parse_bad_input(void **state)
{
    (void)state;
    /* a bad value names the line (4: two ==PROF== lines, the header) */
    bad_ncu("==PROF== a\n==PROF== b\n" NCU_HEAD
            NCU_ROW("0", "conv", T, "nsecond", "n/a"), ":4:", "\"n/a\"");
    bad_ncu(NCU_HEAD NCU_ROW("0", "conv", T, "furlong", "3"), ":2:",
            "\"furlong\"");
    bad_ncu("==PROF== no kernels were profiled\n", "header", "\"ID\"");
    bad_ncu("\"ID\",\"Kernel Name\",\"Metric Name\",\"Metric Value\"\n",
            ":1:", "Metric Unit");
    bad_ncu("\"ID\",\"Kernel Name\",\"" T "\"\n\"0\",\"a\",\"1\"\n", ":1:",
            H);
    bad_ncu(NCU_HEAD NCU_ROW("0", "conv", T, "nsecond", "1")
            NCU_ROW("0", "conv", H, "%", "1")
            NCU_ROW("0", "conv", L, "%", "1"), "expected rows of metric", D);
    bad_ncu(NCU_HEAD NCU_ROW("0", "conv", T, "nsecond", "1")
            NCU_ROW("0", "conv", H, "%", "1") NCU_ROW("0", "conv", L, "%", "1")
            NCU_ROW("0", "conv", D, "%", "1")
            NCU_ROW("1", "relu", T, "nsecond", "1"), "kernel ID 1", H);
    bad_ncu(NCU_HEAD "\"0\",\"4242\"\n", ":2:", "fields");
    ut_err err;
    cap_ncu_summary s;
    assert_int_equal(cap_ncu_parse("/nonexistent/ncu.csv", &s, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open '/nonexistent/ncu.csv'"));
}

/* ---- the derivation of a raw capture ------------------------------------ */

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_derive_synthetic_capture(void **state)
{
    (void)state;
    char *text = tu_synth_raw(NULL, TU_SYNTH_END);
    char *raw = tu_write_temp("raw.jsonl", text);
    free(text);
    const char *dir = tu_tmpdir();
    char *out = path_in(dir, "h100");   /* made by the derivation */
    ut_err err;
    if (cap_derive(raw, out, NULL, 4.5, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(count_entries(out), 4);   /* no staging folder left */

    char *pp = path_in(out, "profile.json");
    mdl_profile p;
    if (mdl_profile_load(pp, &p, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(p.gpu, "H100");
    assert_int_equal(p.sm_count, 132);
    assert_close(p.share_unit_pct, 800.0 / 132, 1e-12);
    assert_close(p.price_per_hour, 4.5, 1e-12);
    assert_close(p.pcie_bytes_per_ms, 2 * 67108864 / 5.4, 1e-12);
    assert_close(p.idle_power_w, 70, 1e-12);
    assert_int_equal(p.ncopies, 5);
    assert_close(p.copies_clock_mhz[4], 1900, 1e-12);
    assert_int_equal(p.nmodels, 2);
    const mdl_model_profile *a = &p.models[0];
    assert_string_equal(a->name, "alpha");
    assert_int_equal(a->kernels, 20);
    assert_close(a->idle_ms, 0.03, 1e-12);
    assert_int_equal(a->ngrid, 12);
    /* solo latency less the transfers: exact at the curve's points */
    for (size_t i = 0; i < a->ngrid; i++) {
        const mdl_grid_point *g = &a->grid[i];
        int sms = g->share_pct == 100 ? 132
                                      : (int)lround(g->share_pct * 1.32);
        double xfer = g->batch * (301056 + 2000) / p.pcie_bytes_per_ms;
        assert_close(g->latency_ms + xfer,
                     tu_synth_ms(0, (int)g->batch, sms), 1e-5);
    }
    /* L2 points on solo points: (1, 100), (32, 100), (8, 64 SMs) */
    assert_int_equal(a->nl2, 3);
    assert_close(a->l2[2].batch, 8, 0);
    assert_close(a->l2[2].share_pct, 6400.0 / 132, 1e-15);
    assert_close(a->l2[2].util_pct, 18, 1e-12);
    /* the pair's L2: the nearest point to batch 1 on 64 SMs, (1, 100) */
    assert_close(a->pair_l2_util_pct, 11, 1e-12);
    assert_close(a->active_pair_ms, 0.74, 1e-12);
    mdl_fitted f;
    if (mdl_fit(&p, &f, &err) < 0)
        fail_msg("%s", err.msg);
    /* the fitted curve goes through the synthetic one */
    assert_close(mdl_active_ms(&f.models[0], 8, 100.0 * 64 / 132) +
                 f.models[0].idle_ms + 8 * (301056 + 2000) /
                 p.pcie_bytes_per_ms, tu_synth_ms(0, 8, 64), 1e-3);
    mdl_profile_free(&p);
    char text2[4096];
    FILE *fp = fopen(pp, "r");
    size_t len = fread(text2, 1, sizeof text2 - 1, fp);
    fclose(fp);
    text2[len] = '\0';
    assert_non_null(strstr(text2, "\"meta\": {\"tool\":\"igniter-capture"));
    assert_non_null(strstr(text2, "\"capture_complete\":true"));

    /* the measured files: solo tables of 4 shares, fitting and held-out
     * pairs, the model judged on the held-out ones */
    char *mp = path_in(out, "measured-colocation.jsonl");
    char *hp = path_in(out, "measured-heldout.jsonl");
    mdl_measured m;
    if (mdl_measured_load(mp, &m, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.nsolo, 2);
    assert_int_equal(m.solo[0].nshares, 4);
    assert_close(m.solo[0].share_pct[1], 3200.0 / 132, 1e-15);
    assert_close(m.solo[1].lat_ms[8][2], tu_synth_ms(1, 8, 64), 1e-6);
    assert_close(m.solo[1].l2_pct[8][2], 20, 1e-12);   /* (8, 64): exact */
    /* batch 32 on 16 SMs: nearer (8, 64 SMs) than (32, 132 SMs) */
    assert_close(m.solo[1].dram_pct[32][0], 34, 1e-12);
    assert_int_equal(m.npairs, 4);
    assert_string_equal(m.pairs[0].a, "alpha");
    assert_close(m.pairs[0].share_a_pct, 3200.0 / 132, 1e-15);
    assert_close(m.pairs[0].std_a_ms, 0.03 * 1.1 * tu_synth_ms(0, 1, 32),
                 1e-4);
    mdl_measured_free(&m);
    if (mdl_measured_load(hp, &m, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.npairs, 2);
    assert_string_equal(m.pairs[1].b, "beta");
    mdl_error_stats es;
    if (mdl_pair_error(&f, &m, 0, &es, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(es.n, 4);
    mdl_measured_free(&m);
    mdl_fitted_free(&f);

    char *xp = path_in(out, "colocations-multi.jsonl");
    cJSON *multi = ut_json_load(xp, &err);
    if (!multi)
        fail_msg("%s", err.msg);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(multi,
                                                            "colocate")), 3);
    cJSON *m2 = cJSON_GetArrayItem(cJSON_GetObjectItem(multi, "colocate"), 2);
    assert_string_equal(cJSON_GetObjectItem(m2, "model")->valuestring,
                        "alpha");
    assert_close(cJSON_GetObjectItem(m2, "resource_pct")->valuedouble,
                 5200.0 / 132, 1e-15);
    cJSON_Delete(multi);
    free(raw);
    free(out);
    free(pp);
    free(mp);
    free(hp);
    free(xp);
}

/* A capture stopped by Ctrl-C after every required step still derives;
 * --gpu names the GPU. */
static void test_derive_incomplete_capture(void **state)
{
    (void)state;
    char *text = tu_synth_raw("step", "{\"kind\":\"end\",\"complete\":false,"
                              "\"seconds\":12}");
    char *raw = tu_write_temp("stopped.jsonl", text);
    free(text);
    const char *out = tu_tmpdir();
    ut_err err;
    if (cap_derive(raw, out, "H100-SXM", 0, &err) < 0)
        fail_msg("%s", err.msg);
    char *pp = path_in(out, "profile.json");
    mdl_profile p;
    if (mdl_profile_load(pp, &p, &err) < 0)
        fail_msg("%s", err.msg);
    assert_string_equal(p.gpu, "H100-SXM");
    assert_true(p.price_per_hour == 0);
    mdl_profile_free(&p);
    free(pp);
    free(raw);
}

/* Bad raw files: one message naming the line or the missing step, and
 * nothing written, neither into an existing folder nor a new one. */
static void bad_raw(const char *text, const char *f1, const char *f2)
{
    char *raw = tu_write_temp("bad-raw.jsonl", text);
    const char *dir = tu_tmpdir();
    char *keep = path_in(dir, "profile.json");
    FILE *fp = fopen(keep, "w");
    fputs("old", fp);
    fclose(fp);
    char *fresh = path_in(dir, "new");
    ut_err err;
    assert_int_equal(cap_derive(raw, dir, NULL, 0, &err), -1);
    if (!strstr(err.msg, f1) || (f2 && !strstr(err.msg, f2)))
        fail_msg("expected \"%s\" and \"%s\" in: %s", f1, f2 ? f2 : "",
                 err.msg);
    assert_int_equal(count_entries(dir), 1);
    char old[8] = "";
    fp = fopen(keep, "r");
    assert_non_null(fgets(old, sizeof old, fp));
    fclose(fp);
    assert_string_equal(old, "old");
    assert_int_equal(cap_derive(raw, fresh, NULL, 0, &err), -1);
    assert_int_equal(count_entries(fresh), -1);
    free(keep);
    free(fresh);
    free(raw);
}

static void test_derive_bad_raw(void **state)
{
    (void)state;
    char *t = tu_synth_raw("solo", TU_SYNTH_END);
    bad_raw(t, "alpha: expected at least 5 \"solo\" records, got 0",
            "step solo was not run");
    free(t);
    /* interrupted (no "end"): the step that did not run is named */
    t = tu_synth_raw("l2", NULL);
    bad_raw(t, "\"l2\" records", "no \"end\" record");
    free(t);
    t = tu_synth_raw("copies", "{\"kind\":\"end\",\"complete\":false}");
    bad_raw(t, "\"copies\" records", "stopped early");
    free(t);
    /* a failed step: its message is quoted */
    t = tu_synth_raw("l2", "{\"kind\":\"step\",\"step\":\"l2\","
                     "\"seconds\":1,\"ok\":0,\"error\":\"ncu: not found\"}\n"
                     "{\"kind\":\"end\",\"complete\":false,"
                     "\"failed_steps\":1}");
    bad_raw(t, "step l2 failed (line ", "): ncu: not found");
    free(t);
    t = tu_synth_raw("meta", TU_SYNTH_END);
    bad_raw(t, "expected a \"meta\" record", NULL);
    free(t);
    t = tu_synth_raw("coloc", TU_SYNTH_END);
    bad_raw(t, "\"fit\" set", "step coloc");
    free(t);
    /* a malformed line, a bad field: named by line */
    t = tu_synth_raw(NULL, TU_SYNTH_END);
    size_t n = strlen(t);
    char *u = malloc(n + 256);
    char *third = strchr(strchr(t, '\n') + 1, '\n') + 1;
    snprintf(u, n + 256, "%.*s{\"kind\":\"solo\",\"model\":\n%s",
             (int)(third - t), t, third);
    bad_raw(u, "bad-raw.jsonl:3:", "expected valid JSON");
    snprintf(u, n + 256, "%.*s{\"kind\":\"l2\",\"model\":\"alpha\","
             "\"batch\":1,\"sms\":132,\"l2_util_pct\":-4,"
             "\"dram_util_pct\":1}\n%s", (int)(third - t), t, third);
    bad_raw(u, "bad-raw.jsonl:3: l2.l2_util_pct", "got -4");
    snprintf(u, n + 256, "%.*s{\"kind\":\"solo\",\"model\":\"gamma\","
             "\"batch\":1,\"sms\":132,\"mean_ms\":1,\"std_ms\":0}\n%s",
             (int)(third - t), t, third);
    bad_raw(u, ":3: solo.model", "got \"gamma\"");
    snprintf(u, n + 256, "%.*s{\"kind\":\"solo\",\"model\":\"alpha\","
             "\"batch\":1,\"sms\":140,\"mean_ms\":1,\"std_ms\":0}\n%s",
             (int)(third - t), t, third);
    bad_raw(u, ":3: solo.sms", "got 140");
    snprintf(u, n + 256, "%.*s[1, 2]\n%s", (int)(third - t), t, third);
    bad_raw(u, ":3: expected a JSON object", NULL);
    free(u);
    /* a later record replaces an earlier one of the same point: here with
     * a latency below the batch's transfer time */
    size_t lines = 0;
    for (const char *c = t; *c; c++)
        lines += *c == '\n';
    u = malloc(n + 1024);
    snprintf(u, n + 1024, "%s{\"kind\":\"solo\",\"model\":\"alpha\","
             "\"batch\":32,\"sms\":132,\"mean_ms\":0.1,\"std_ms\":0,"
             "\"power_w\":200,\"clock_mhz\":1980}\n", t);
    char want[64];
    snprintf(want, sizeof want, ":%zu: solo.mean_ms", lines + 1);
    bad_raw(u, want, "transfer time");
    /* more partition sizes than the measured tables hold: sizes 2, 10,
     * 18, ... (none of the synthetic capture's) until one is too many */
    free(u);
    u = malloc(n + 4096);
    int k = snprintf(u, n + 4096, "%s", t);
    for (int i = 0; i < MDL_MEAS_SHARES; i++)
        k += snprintf(u + k, n + 4096 - (size_t)k, "{\"kind\":\"solo\","
                      "\"model\":\"beta\",\"batch\":1,\"sms\":%d,"
                      "\"mean_ms\":3,\"std_ms\":0}\n", 2 + 8 * (i % 16) + i / 16);
    char lim[64];
    snprintf(lim, sizeof lim, "solo.sms: expected at most %d partition sizes",
             MDL_MEAS_SHARES);
    bad_raw(u, lim, "got one more");
    free(u);
    free(t);
    ut_err err;
    assert_int_equal(cap_derive("/nonexistent/raw.jsonl", tu_tmpdir(), NULL,
                                0, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open '/nonexistent/raw.jsonl'"));
}

/* ---- child processes and MPS (capture/mps.c), no GPU needed ------------- */

static void test_child_output_env_and_status(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "echo one; echo \"x=$X\"; exit 3",
                          NULL};
    const char *env[] = {"X=42", NULL};
    cap_child c;
    ut_err err;
    if (cap_child_spawn((char *const *)argv, env, &c, &err) < 0)
        fail_msg("%s", err.msg);
    char a[64] = "", b[64] = "";
    assert_non_null(fgets(a, sizeof a, c.out));
    assert_non_null(fgets(b, sizeof b, c.out));
    assert_string_equal(a, "one\n");
    assert_string_equal(b, "x=42\n");
    int st;
    assert_int_equal(cap_child_wait(&c, &st), 0);
    assert_int_equal(st, 3);
    /* a program that does not exist: 127, as a shell says */
    const char *bad[] = {"/nonexistent/igniter-nothing", NULL};
    if (cap_child_spawn((char *const *)bad, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    cap_child_wait(&c, &st);
    assert_int_equal(st, 127);
}

static int gone(long pid)
{
    char p[64], line[256] = "";
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 1;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    const char *rp = strrchr(line, ')');
    return ok && rp && rp[1] == ' ' && rp[2] == 'Z';   /* a zombie */
}

/* Ctrl-C's path: every child and what it started end, within seconds. */
static void test_children_kill_ends_the_group(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "sleep 60 & echo $!; wait", NULL};
    cap_child c;
    ut_err err;
    if (cap_child_spawn((char *const *)argv, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, c.out));
    long grandchild = atol(line);
    assert_true(grandchild > 0);
    assert_false(gone(grandchild));
    time_t t0 = time(NULL);
    cap_children_kill();
    assert_true(time(NULL) - t0 <= 3);
    assert_true(gone(c.pid) || kill(c.pid, 0) != 0);
    for (int i = 0; i < 30 && !gone(grandchild); i++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    assert_true(gone(grandchild));
    if (c.out)
        fclose(c.out);
}

/* Bounded run times: a child that overstays is ended, group and all. */
static void test_child_wait_timeout(void **state)
{
    (void)state;
    const char *argv[] = {"/bin/sh", "-c", "sleep 30; sleep 30", NULL};
    cap_child c;
    ut_err err;
    if (cap_child_spawn((char *const *)argv, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    time_t t0 = time(NULL);
    int st;
    assert_int_equal(cap_child_wait_timeout(&c, 0.5, &st), 1);
    assert_true(time(NULL) - t0 <= 3);
    assert_int_equal(st, 128 + SIGTERM);
    const char *quick[] = {"/bin/sh", "-c", "exit 4", NULL};
    if (cap_child_spawn((char *const *)quick, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(cap_child_wait_timeout(&c, 10, &st), 0);
    assert_int_equal(st, 4);
}

/* A stand-in for nvidia-cuda-mps-control: -d makes the control socket,
 * "quit" on standard input removes it; both are logged. */
static char *fake_control(const char *log)
{
    char text[512];
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "if [ \"$1\" = -d ]; then echo \"start $CUDA_MPS_PIPE_DIRECTORY\""
             " >> %s; touch \"$CUDA_MPS_PIPE_DIRECTORY/control\"; exit 0; fi\n"
             "read cmd; echo \"$cmd\" >> %s\n"
             "rm -f \"$CUDA_MPS_PIPE_DIRECTORY/control\"\n", log, log);
    char *p = tu_write_temp("fake-mps-control", text);
    chmod(p, 0755);
    return p;
}

static void test_mps_daemon_of_our_own(void **state)
{
    (void)state;
    char log[256];
    snprintf(log, sizeof log, "%s/mps.log", tu_tmpdir());
    char *bin = fake_control(log);
    setenv("IGNITER_MPS_CONTROL", bin, 1);
    unsetenv("CUDA_MPS_PIPE_DIRECTORY");
    ut_err err;
    char why[256];
    if (cap_mps_foreign(why, sizeof why))
        skip();   /* this machine runs a real MPS daemon: leave it alone */
    if (cap_mps_start(&err) < 0)
        fail_msg("%s", err.msg);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", cap_mps_dir());
    assert_true(strncmp(dir, "/tmp/igniter-mps-", 17) == 0);
    assert_string_equal(getenv("CUDA_MPS_PIPE_DIRECTORY"), dir);
    assert_string_equal(getenv("CUDA_MPS_LOG_DIRECTORY"), dir);
    /* a client gets its share as asked and few hardware queues, whatever
     * ours are (32 per client kept a 4th from starting on the H200) */
    setenv("CUDA_DEVICE_MAX_CONNECTIONS", "32", 1);
    /* and no CUDA_VISIBLE_DEVICES: the daemon was started with ours, its
     * server numbers the devices again from 0 (a client that kept "1"
     * found no device on GPU 1 of a two-GPU machine) */
    setenv("CUDA_VISIBLE_DEVICES", "1", 1);
    char *argv[] = {"sh", "-c", "echo $CUDA_DEVICE_MAX_CONNECTIONS "
                    "$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE "
                    "${CUDA_VISIBLE_DEVICES-unset}", NULL};
    cap_child ch;
    if (cap_mps_client_spawn(argv, 37.5, 0, &ch, &err) < 0)
        fail_msg("%s", err.msg);
    char line[64] = "";
    assert_non_null(fgets(line, sizeof line, ch.out));
    int cst;
    cap_child_wait(&ch, &cst);
    assert_string_equal(line, "2 37.5 unset\n");
    assert_string_equal(getenv("CUDA_VISIBLE_DEVICES"), "1");   /* ours */
    unsetenv("CUDA_DEVICE_MAX_CONNECTIONS");
    unsetenv("CUDA_VISIBLE_DEVICES");
    cap_mps_stop();
    struct stat st;
    assert_true(stat(dir, &st) != 0);          /* its folder is gone */
    assert_null(getenv("CUDA_MPS_PIPE_DIRECTORY"));
    assert_string_equal(cap_mps_dir(), "");
    char text[1024] = "";
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    size_t k = fread(text, 1, sizeof text - 1, f);
    text[k] = '\0';
    fclose(f);
    char want[512];
    snprintf(want, sizeof want, "start %s\nquit\n", dir);
    assert_string_equal(text, want);
    /* a daemon that is not ours: refused, saying where and what to do */
    char *ctlp = tu_write_temp("control", "");
    char ctl[300], other[300];
    snprintf(ctl, sizeof ctl, "%s", ctlp);
    snprintf(other, sizeof other, "%s", ctlp);
    *strrchr(other, '/') = '\0';
    free(ctlp);
    setenv("CUDA_MPS_PIPE_DIRECTORY", other, 1);
    assert_int_equal(cap_mps_start(&err), -1);
    if (!strstr(err.msg, ctl) || !strstr(err.msg, "quit"))
        fail_msg("unclear message: %s", err.msg);
    assert_string_equal(cap_mps_dir(), "");
    unsetenv("CUDA_MPS_PIPE_DIRECTORY");
    /* no control binary: a clear error, nothing left behind */
    setenv("IGNITER_MPS_CONTROL", "/nonexistent/nvidia-cuda-mps-control", 1);
    assert_int_equal(cap_mps_start(&err), -1);
    if (!strstr(err.msg, "nvidia-cuda-mps-control") ||
        !strstr(err.msg, "IGNITER_MPS_CONTROL"))
        fail_msg("unclear message: %s", err.msg);
    assert_string_equal(cap_mps_dir(), "");
    unsetenv("IGNITER_MPS_CONTROL");
    free(bin);
}

/* On a machine with a GPU and `make capture` done: one real inference
 * through the runner, as an MPS client would run it. Skipped, saying so,
 * everywhere else (CI has no GPU). */
static void test_gpu_infer(void **state)
{
    (void)state;
    const char *bin = "build/igniter-capture";
    if (access(bin, X_OK) != 0 ||
        system("nvidia-smi -L > /dev/null 2>&1") != 0) {
        printf("test_gpu_infer: skipped, no GPU here (nvidia-smi) or no "
               "%s (make capture)\n", bin);
        skip();
    }
    const char *argv[] = {bin, "infer", "--json", "--model", "alexnet",
                          "--batches", "1,4", "--iters", "5", "--sms",
                          "1000", NULL};
    cap_child c;
    ut_err err;
    if (cap_child_spawn((char *const *)argv, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, c.out)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "batch");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "mean_ms");
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, "iters");
        assert_true(cJSON_IsNumber(b) && b->valueint == (n ? 4 : 1));
        assert_true(cJSON_IsNumber(m) && m->valuedouble > 0 &&
                    m->valuedouble < 1000);
        assert_true(cJSON_IsNumber(it) && it->valueint >= 5);
        cJSON_Delete(j);
        n++;
    }
    int st;
    cap_child_wait(&c, &st);
    assert_int_equal(st, 0);
    assert_int_equal(n, 2);
    /* and the runner's self-check on every model (igniter-capture check) */
    const char *chk[] = {bin, "check", NULL};
    if (cap_child_spawn((char *const *)chk, NULL, &c, &err) < 0)
        fail_msg("%s", err.msg);
    n = 0;
    int bad = 0, fused = 0;
    while (fgets(line, sizeof line, c.out)) {
        printf("%s", line);
        n += strstr(line, " ok ") != NULL;
        bad += strstr(line, "FAIL") != NULL;
        fused += strstr(line, "fused/ref") != NULL;
    }
    cap_child_wait(&c, &st);
    assert_int_equal(st, 0);
    assert_int_equal(bad, 0);
    /* every model, and every model's fast path (fused convolutions,
     * GEMMs, attention) against the unfused reference */
    assert_int_equal(fused, 5);
    assert_int_equal(n, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameter_counts_match_published),
        cmocka_unit_test(test_output_shapes),
        cmocka_unit_test(test_flops),
        cmocka_unit_test(test_bad_graphs),
        cmocka_unit_test(test_kernel_stats_gaps_and_overlaps),
        cmocka_unit_test(test_kernel_stats_several_inferences),
        cmocka_unit_test(test_kernel_stats_bad_input),
        cmocka_unit_test(test_ncu_parse_long_layout),
        cmocka_unit_test(test_ncu_parse_wide_layout),
        cmocka_unit_test(test_ncu_parse_bad_input),
        cmocka_unit_test(test_derive_synthetic_capture),
        cmocka_unit_test(test_derive_incomplete_capture),
        cmocka_unit_test(test_derive_bad_raw),
        cmocka_unit_test(test_child_output_env_and_status),
        cmocka_unit_test(test_children_kill_ends_the_group),
        cmocka_unit_test(test_child_wait_timeout),
        cmocka_unit_test(test_mps_daemon_of_our_own),
        cmocka_unit_test(test_gpu_infer),
    };
    return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
