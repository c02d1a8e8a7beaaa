#!/usr/bin/env python3
"""scripts/validate-table.py OUT [REAL] - the simulator against the real GPU.

Reads OUT/real/RUN/ (igniter serve) and OUT/sim-measured/RUN/,
OUT/sim-model/RUN/ (igniter sim, same plan, arrivals, seed, duration) and
writes:
  OUT/table.csv     one row per run, workload and back end: mean, P50, P99
                    latency and SLO violation %, real and simulated, with
                    the relative error of each latency
  OUT/fidelity.csv  per run and back end, and over all runs: the mean
                    absolute relative error of the mean and of the P99 over
                    workloads; whether the run was stable (real violations
                    below 50 %: queues that grow without bound make latency
                    errors meaningless, their violation % is compared)
  OUT/figdata/     what scripts/plot-validate-*.gp draw: cdf-RUN.dat (the
                    latency CDF of all requests: real, sim measured, sim
                    model), err.dat (per workload, the measured back end's
                    signed error of the mean and P99), fidelity.dat
and prints the fidelity table. REAL (default "real") names the folder of
the real runs; another one (real-mps) writes table-REAL.csv and
fidelity-REAL.csv instead, and no figure data. Standard library only.
"""
import csv
import os
import sys


def load(path):
    with open(path, newline="") as f:
        return {r["workload"]: r for r in csv.DictReader(f)}


def rel(sim, real):
    return (sim - real) / real if real > 0 else float("nan")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: validate-table.py OUT [REAL]")
    out = sys.argv[1]
    realdir = sys.argv[2] if len(sys.argv) == 3 else "real"
    suffix = "" if realdir == "real" else "-" + realdir
    runs = sorted(os.listdir(os.path.join(out, realdir)))
    rows, fid = [], []
    metrics = [("mean_ms", "mean"), ("p50_ms", "p50"), ("p99_ms", "p99")]
    for run in runs:
        real_path = os.path.join(out, realdir, run, "workloads.csv")
        if not os.path.exists(real_path):
            continue
        real = load(real_path)
        viol = sum(float(r["slo_violation_pct"]) for r in real.values()) / len(real)
        stable = viol < 50
        for be in ("measured", "model"):
            sp = os.path.join(out, "sim-" + be, run, "workloads.csv")
            if not os.path.exists(sp):
                continue
            sim = load(sp)
            errs = {"mean": [], "p99": []}
            for w, r in real.items():
                s = sim[w]
                row = {"run": run, "backend": be, "workload": w,
                       "model": r["model"], "slo_ms": r["slo_ms"],
                       "requests": r["requests"]}
                for col, name in metrics:
                    a, b = float(r[col]), float(s[col])
                    row["real_" + name + "_ms"] = "%.3f" % a
                    row["sim_" + name + "_ms"] = "%.3f" % b
                    row[name + "_err_pct"] = "%.1f" % (100 * rel(b, a))
                    if name in errs:
                        errs[name].append(abs(rel(b, a)))
                row["real_slo_violation_pct"] = "%.2f" % float(r["slo_violation_pct"])
                row["sim_slo_violation_pct"] = "%.2f" % float(s["slo_violation_pct"])
                rows.append(row)
            fid.append({"run": run, "backend": be,
                        "stable": "yes" if stable else "no",
                        "workloads": len(real),
                        "mean_abs_err_pct": "%.1f" % (100 * sum(errs["mean"]) / len(errs["mean"])),
                        "p99_abs_err_pct": "%.1f" % (100 * sum(errs["p99"]) / len(errs["p99"])),
                        "real_wl_mean_slo_violation_pct": "%.2f" % viol,
                        "sim_wl_mean_slo_violation_pct": "%.2f" % (sum(float(s["slo_violation_pct"]) for s in sim.values()) / len(sim))})
    runs_fid = list(fid)   # the per-run rows; the totals below add to fid
    for be in ("measured", "model"):
        for which in ("stable", "all"):
            sel = [f for f in runs_fid if f["backend"] == be and
                   (which == "all" or f["stable"] == "yes")]
            if not sel:
                continue
            # averaged over workloads (each run weighted by its workloads)
            n = sum(f["workloads"] for f in sel)
            m = sum(float(f["mean_abs_err_pct"]) * f["workloads"] for f in sel) / n
            p = sum(float(f["p99_abs_err_pct"]) * f["workloads"] for f in sel) / n
            fid.append({"run": "ALL-" + which.upper(), "backend": be,
                        "stable": which, "workloads": n,
                        "mean_abs_err_pct": "%.1f" % m,
                        "p99_abs_err_pct": "%.1f" % p,
                        "real_wl_mean_slo_violation_pct": "",
                        "sim_wl_mean_slo_violation_pct": ""})
    with open(os.path.join(out, "table%s.csv" % suffix), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, "fidelity%s.csv" % suffix), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fid[0].keys()))
        w.writeheader()
        w.writerows(fid)
    if not suffix:
        figdata(out, runs, rows, fid)
    print("%-24s %-9s %-6s %6s %9s %9s %9s %9s" % (
        "run", "backend", "stable", "wl", "|mean|%", "|P99|%", "real v%", "sim v%"))
    for f in fid:
        print("%-24s %-9s %-6s %6s %9s %9s %9s %9s" % (
            f["run"], f["backend"], f["stable"], f["workloads"],
            f["mean_abs_err_pct"], f["p99_abs_err_pct"], f["real_wl_mean_slo_violation_pct"],
            f["sim_wl_mean_slo_violation_pct"]))


def figdata(out, runs, rows, fid):
    d = os.path.join(out, "figdata")
    os.makedirs(d, exist_ok=True)
    for run in runs:
        with open(os.path.join(d, "cdf-%s.dat" % run), "w") as f:
            for src in ("real", "sim-measured", "sim-model"):
                p = os.path.join(out, src, run, "cdf.csv")
                f.write("# %s\n" % src)
                if os.path.exists(p):
                    with open(p, newline="") as c:
                        for r in csv.DictReader(c):
                            if r["workload"] == "all":
                                f.write("%s %s\n" % (r["latency_ms"], r["quantile"]))
                f.write("\n\n")
    with open(os.path.join(d, "err.dat"), "w") as f:
        f.write("# x run workload mean_err_pct p99_err_pct (measured back end)\n")
        x, last = 0, None
        for r in rows:
            if r["backend"] != "measured":
                continue
            if r["run"] != last:
                x += 1
                last = r["run"]
            x += 1
            f.write("%d %s %s %s %s\n" % (x, r["run"], r["workload"],
                                          r["mean_err_pct"], r["p99_err_pct"]))
    with open(os.path.join(d, "fidelity.dat"), "w") as f:
        f.write("# run measured_mean measured_p99 model_mean model_p99\n")
        for run in runs:
            v = {}
            for e in fid:
                if e["run"] == run:
                    v[e["backend"]] = (e["mean_abs_err_pct"], e["p99_abs_err_pct"])
            if "measured" in v and "model" in v:
                f.write("%s %s %s %s %s\n" % (run, *v["measured"], *v["model"]))


if __name__ == "__main__":
    main()
