#!/usr/bin/env python3
"""PyTorch eager baseline for `igniter-capture bench` (README, "Runner speed").

Same architectures as capture/models/ (torchvision's, random weights, no
download), FP16, channels-last, inference mode; latency of one inference
(host to host, synchronised) per model and batch, timed with CUDA events
over repeated runs after a warm-up. One JSON line per point on stdout:
{"model","batch","mean_ms","p50_ms","iters","torch","cuda","cudnn","gpu"}.

    python3 scripts/torch-bench.py [--models alexnet,resnet50,...]
                                   [--batches 1,2,4,8,16,32] [--seconds 1]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torchvision


def ssd_forward(m):
    """SSD-300's network without the box decoding and NMS (capture's graph
    stops at the heads too)."""
    def f(x):
        feats = list(m.backbone(x).values())
        return m.head(feats)
    return f


def build(name):
    tv = torchvision.models
    if name == "alexnet":
        m = tv.alexnet(weights=None)
        return m, m, 224
    if name == "resnet50":
        m = tv.resnet50(weights=None)
        return m, m, 224
    if name == "vgg19":
        m = tv.vgg19(weights=None)
        return m, m, 224
    if name == "ssd300":
        m = tv.detection.ssd300_vgg16(weights=None, weights_backbone=None)
        return m, ssd_forward(m), 300
    if name == "vit_b16":
        m = tv.vit_b_16(weights=None)
        return m, m, 224
    sys.exit(f"torch-bench.py: unknown model '{name}'")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="alexnet,resnet50,vgg19,ssd300,vit_b16")
    ap.add_argument("--batches", default="1,2,4,8,16,32")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--profile", metavar="MODEL:BATCH",
                    help="print the GPU kernels of one inference instead")
    a = ap.parse_args()
    if a.profile:
        return profile(*a.profile.split(":"))
    torch.manual_seed(1)
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    info = {"torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "gpu": torch.cuda.get_device_name(0)}
    for name in a.models.split(","):
        mod, fwd, hw = build(name)
        mod = mod.eval().half().to(dev).to(memory_format=torch.channels_last)
        for b in [int(x) for x in a.batches.split(",")]:
            host = torch.randn(b, 3, hw, hw).half().pin_memory()
            with torch.inference_mode():
                def once():
                    x = host.to(dev, non_blocking=True).contiguous(
                        memory_format=torch.channels_last)
                    y = fwd(x)
                    if isinstance(y, dict):
                        y = list(y.values())
                    if isinstance(y, (list, tuple)):
                        return [t.to("cpu") for t in y]
                    return y.to("cpu")
                for _ in range(10):
                    once()
                torch.cuda.synchronize()
                t = []
                t_end = time.perf_counter() + a.seconds
                while time.perf_counter() < t_end or len(t) < 20:
                    s = time.perf_counter()
                    once()
                    torch.cuda.synchronize()
                    t.append((time.perf_counter() - s) * 1e3)
            print(json.dumps(dict(model=name, batch=b,
                                  mean_ms=round(statistics.fmean(t), 5),
                                  p50_ms=round(statistics.median(t), 5),
                                  iters=len(t), **info)), flush=True)
        del mod


def profile(name, batch):
    """The heaviest kernels of one model and batch (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile as prof
    torch.backends.cudnn.benchmark = True
    mod, fwd, hw = build(name)
    mod = mod.eval().half().cuda().to(memory_format=torch.channels_last)
    x = torch.randn(int(batch), 3, hw, hw, device="cuda").half().contiguous(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(20):
            fwd(x)
        torch.cuda.synchronize()
        with prof(activities=[ProfilerActivity.CUDA]) as p:
            for _ in range(10):
                fwd(x)
            torch.cuda.synchronize()
    print(p.key_averages().table(sort_by="cuda_time_total", row_limit=12,
                                 max_name_column_width=70))


if __name__ == "__main__":
    main()
