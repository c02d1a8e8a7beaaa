#!/usr/bin/python3
"""Independent check of the C fits: fits the iGniter model to the V100
profile with SciPy (curve_fit, Levenberg-Marquardt) and NumPy, following
IGNITER-MODEL.md, and prints the coefficients and a few predictions.

tests/test_fit.c and tests/test_predict.c hold the numbers this printed
(Debian python3-scipy 1.10.1, python3-numpy 1.24.2); rerun it to check them:
    /usr/bin/python3 scripts/reference-fit.py traces/v100/igniter-profile.jsonl
Not part of the build: only SciPy and NumPy are needed, never by CI.
"""
import json
import math
import sys

import numpy as np
from scipy.optimize import curve_fit

GRID_B = [1, 16, 32]
GRID_R = [10, 50, 100]


def merged(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                for k, v in json.loads(line).items():
                    out.setdefault(k, {}).update(v)
    return out


def main(path):
    prof = merged(path)
    hw = prof["hardware"]
    fmax, pmax, pidle = hw["maxGPUfrequency"], hw["maxGPUpower"], hw["idlepower"]
    bw = hw["bandwidth"]
    pw, fr, it = list(hw["power"]), hw["frequency"], hw["idletime"]
    # 1. clock slope, through (P_max, f_max)
    first = next(i for i, f in enumerate(fr) if f < fmax - 1)
    step = (pw[first - 1] - pw[0]) / (first - 1) if first >= 2 else pw[0] - pidle
    for j in range(first, len(pw)):
        pw[j] = pw[j - 1] + step
    x = np.array(pw[first:]) - pmax
    y = np.array(fr[first:]) - fmax
    a = float(np.dot(x, y) / np.dot(x, x))
    # 2. scheduling delay
    v = [it[i] * fr[i] / fmax for i in range(len(it))]
    n = np.arange(2, len(v) + 1)
    alpha, beta = np.polyfit(n, np.array(v[1:]) - v[0], 1)
    print(f"clock_per_watt {a:.17g}\nsched_alpha {alpha:.17g}\nsched_beta {beta:.17g}")
    fits = {}
    for name, m in prof.items():
        if name == "hardware":
            continue
        bs, rs, ys, cs, ps = [], [], [], [], []
        for i, b in enumerate(GRID_B):
            for j, r in enumerate(GRID_R):
                lat, f = m["gpulatency"][i][j], m["frequency"][i][j]
                t = lat * (f / fmax if f < fmax else 1) - m["idletime_1"]
                bs.append(b); rs.append(r); ys.append(t)
                if f > fmax - 1:
                    cs.append(1000 * b / (lat - m["idletime_1"]))
                    ps.append(m["power"][i][j] - pidle)
        k, _ = curve_fit(lambda X, k1, k2, k3, k4, k5:
                         (k1 * X[0] ** 2 + k2 * X[0] + k3) / (X[1] + k4) + k5,
                         np.array([bs, rs], dtype=float), np.array(ys),
                         p0=[1] * 5, method="lm", maxfev=100000)
        p1, p0 = np.polynomial.polynomial.polyfit(cs, ps, 1)
        cl = [1000 * b / (m["gpulatency"][i][i] - m["idletime_1"])
              for i, b in enumerate(GRID_B)]
        q1, q0 = np.polynomial.polynomial.polyfit(cl, m["l2caches"], 1)
        kl2 = ((m["activetime_2"] * m["frequency_2"] / fmax)
               / m["activetime_1"] - 1) / m["l2cache"]
        fits[name] = dict(k=k, p=(p0, p1), q=(q0, q1), kl2=kl2, m=m)
        print(name, "k_act", " ".join(f"{v:.17g}" for v in k))
        print(name, "power", f"{p0:.17g} {p1:.17g}", "l2", f"{q0:.17g} {q1:.17g}",
              "k_l2", f"{kl2:.17g}")

    def predict(ws):
        p = len(ws)
        d = alpha * p + beta if p >= 2 else 0
        solo, l2, power = [], [], pidle
        for name, b, r in ws:
            F = fits[name]; k = F["k"]
            t = (k[0] * b * b + k[1] * b + k[2]) / (r + k[3]) + k[4]
            c = 1000 * b / t
            solo.append(t)
            power += F["p"][0] * c + F["p"][1]
            l2.append(F["q"][0] * c + F["q"][1])
        f = fmax if power <= pmax else a * (power - pmax) + fmax
        out = []
        for i, (name, b, r) in enumerate(ws):
            F = fits[name]; m = F["m"]
            idle = m["kernel"] * d + m["idletime_1"]
            act = solo[i] * (1 + F["kl2"] * (sum(l2) - l2[i]))
            g = (idle + act) / (f / fmax)
            out.append((g + (m["inputdata"] + m["outputdata"]) * b / bw,
                        1000 * b / (g + m["outputdata"] * b / bw)))
        return out

    for ws in ([("alexnet", 4, 10)],
               [("resnet50", 8, 30), ("vgg19", 6, 37.5)],
               [("alexnet", 4, 10), ("resnet50", 8, 30), ("vgg19", 6, 37.5)],
               [("vgg19", 32, 40), ("ssd", 16, 30), ("resnet50", 16, 20),
                ("alexnet", 32, 10)]):
        print("predict", ws, " ".join(f"{l:.17g} {t:.17g}" for l, t in predict(ws)))


if __name__ == "__main__":
    main(sys.argv[1])
