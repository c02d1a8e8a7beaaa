#!/usr/bin/env python3
"""scripts/validate-policies.py DIR - the policies' plans on a real GPU
against the simulator (experiments/validation/policies/README.md).
scripts/validate-policies.py band DIR PCT MEASURED - for every real run
of DIR, `igniter sim --sensitivity PCT` of its plan on the measured data
MEASURED (its seed, duration, warm-up and arrivals): the violations with
every batch PCT % shorter and PCT % longer, and whether the real run's
are inside; DIR/band-PCT.csv, and a Markdown table.
scripts/validate-policies.py power CSV... - what nvidia-smi sampled while
a plan ran (scripts/policies-power-gpu.sh): per file, the samples with
the GPU over 50 % utilised, their median and 90th percentile power (W),
median and least SM clock (MHz), and the % of them throttled by the
power cap (clocks_event_reasons bit 0x4).

DIR holds real/RUN/ (igniter serve), optionally real-again/RUN/ (the same
runs again) and sim-NAME/RUN/ (igniter sim, one folder per judge), RUN
being SCALE-POLICY-ARRIVALS (x8-igniter-plus-poisson). Writes
DIR/policies.csv, a row per run: GPUs, SLO violations (% of requests) of
each real run and each simulation, and each simulation's mean absolute
error over the workloads in mean and P99 latency (% of the real); and
DIR/policies-gpus.csv, a row per plan GPU of each Poisson run: its SMs
in use, the largest and the mean of its instances' utilisation (rate /
batch x real batch time), and each simulation's signed error in batch
time (mean over its instances, and the largest in absolute value).
Prints the first as a Markdown table, then the policies each source
ranks best (fewest violations, then fewest GPUs) per scale and
arrivals."""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile


def die(msg):
    """One line naming what is wrong, exit 2."""
    print("validate-policies: " + msg, file=sys.stderr)
    sys.exit(2)


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()),
                           lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def services(run_dir):
    """Of a result folder's summary.json: {workload: mean batch time ms}
    ({} where missing), the plan path it names, and the device's SMs
    (from serve's device line; 132, the H200's, where it names none)."""
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return {}, None, 132
    dev = s.get("serve", {}).get("device", "")
    try:
        sms = int(dev.split(" SMs")[0].rsplit(" ", 1)[1]) \
            if " SMs" in dev else 132
    except (ValueError, IndexError):
        die(f"{run_dir}/summary.json: serve.device: expected 'NAME, N SMs, "
            f"...', got '{dev}'")
    return ({w["name"]: float(w["mean_service_ms"])
             for w in s.get("workloads", []) if "mean_service_ms" in w},
            s.get("inputs", {}).get("plan"), sms)


def group_sms(share_pct, sms_total, group=8):
    """serve's SMs of a share: rounded up to whole groups (serve/gpu.cu,
    share_sms)."""
    n = math.ceil(share_pct * sms_total / 100 - 1e-6)
    return (n + group - 1) // group * group


def gpu_rows(d, run, sims):
    """policies-gpus.csv's rows of one run."""
    real, plan_path, sms_total = services(os.path.join(d, "real", run))
    if not plan_path:
        die(f"{d}/real/{run}/summary.json: no inputs.plan")
    try:
        with open(plan_path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        die(f"{plan_path}: {e}")
    sim = {s: services(os.path.join(d, "sim-" + s, run))[0] for s in sims}
    rows = []
    for g in plan["gpus"]:
        ws = g["workloads"]
        util = [w["rate_rps"] / w["batch"] * real[w["name"]] / 1000
                for w in ws]
        row = {"run": run, "gpu": g["gpu"], "instances": len(ws),
               "sms": sum(group_sms(w["resource_pct"], sms_total)
                          for w in ws),
               "util_max": "%.2f" % max(util),
               "util_mean": "%.2f" % (sum(util) / len(util))}
        for s in sims:
            e = [(sim[s][w["name"]] / real[w["name"]] - 1) * 100
                 for w in ws if w["name"] in sim[s]]
            row[s + "_service_err_pct"] = (
                "%.2f" % (sum(e) / len(e)) if e else "")
            row[s + "_service_err_worst_pct"] = (
                "%.2f" % max(e, key=abs) if e else "")
        rows.append(row)
    return rows


def load(run_dir):
    """(GPUs, violation %, {workload: (mean ms, p99 ms)}) of a result
    folder, or None where it is missing or incomplete."""
    try:
        with open(os.path.join(run_dir, "summary.json")) as f:
            s = json.load(f)
        with open(os.path.join(run_dir, "workloads.csv"), newline="") as f:
            w = {r["workload"]: (float(r["mean_ms"]), float(r["p99_ms"]))
                 for r in csv.DictReader(f)}
    except (OSError, ValueError, KeyError):
        return None
    if not s.get("complete"):
        return None
    t = s["totals"]
    return int(t["num_gpus"]), float(t["slo_violation_pct"]), w


def err_pct(sim, real, k):
    """Mean over the real run's workloads of |sim - real| / real, in %."""
    e = [abs(sim[n][k] - v[k]) / v[k] * 100 for n, v in real.items()
         if n in sim and v[k] > 0]
    return sum(e) / len(e) if e else float("nan")


def split(run):
    scale, rest = run.split("-", 1)
    policy, arrivals = rest.rsplit("-", 1)
    return scale, policy, arrivals


def power(paths):
    print("| run | busy samples | power W, median / p90 | SM clock MHz, "
          "median / least | power-capped % |")
    print("|---|---|---|---|---|")
    for p in paths:
        try:
            with open(p, newline="") as f:
                rows = [r for r in csv.reader(f, skipinitialspace=True)
                        if r and not r[0].startswith("timestamp")]
            busy = [(float(r[1]), float(r[2]), int(r[6], 16))
                    for r in rows if float(r[5]) > 50]
        except (OSError, ValueError, IndexError) as e:
            die(f"{p}: expected nvidia-smi's CSV (timestamp, power, SM "
                f"clock, memory clock, temperature, utilisation, "
                f"reasons): {e}")
        if not busy:
            die(f"{p}: no sample over 50 % busy")
        pw = sorted(b[0] for b in busy)
        ck = sorted(b[1] for b in busy)
        capped = sum(1 for b in busy if b[2] & 4) * 100 / len(busy)
        print("| %s | %d | %.0f / %.0f | %.0f / %.0f | %.0f |" % (
            os.path.basename(p)[:-4], len(busy), pw[len(pw) // 2],
            pw[int(len(pw) * 0.9)], ck[len(ck) // 2], ck[0], capped))


# validate.sh's arrival kinds
ARRIVALS = {"poisson": "poisson",
            "azure": "replay:traces/azure/azure-llm-2023-code.csv:loop"}


def band(d, pct, measured):
    igniter = os.environ.get("IGNITER", "build/igniter")
    real_dir = os.path.join(d, "real")
    if not os.path.isdir(real_dir):
        die(f"{real_dir}: no such folder")
    try:
        p = float(pct)
    except ValueError:
        p = -1
    if not 0 < p <= 50:
        die(f"PCT: expected a number in (0, 50], got '{pct}'")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in sorted(os.listdir(real_dir)):
            with open(os.path.join(real_dir, run, "summary.json")) as f:
                s = json.load(f)
            inp = s.get("inputs", {})
            arr = run.rsplit("-", 1)[1]
            if arr not in ARRIVALS or "plan" not in inp:
                die(f"{real_dir}/{run}: expected a run named PLAN-poisson "
                    "or PLAN-azure with inputs.plan")
            out = os.path.join(tmp, run)
            cmd = [igniter, "sim", "--plan", inp["plan"], "--backend",
                   "measured", "--measured", measured, "--duration-s",
                   str(inp["duration_s"]), "--warmup-s",
                   str(inp["warmup_s"]), "--seed", str(inp["seed"]),
                   "--arrivals", ARRIVALS[arr], "--sensitivity", pct,
                   "--quiet", "--out", out]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                die(f"{' '.join(cmd)}: {r.stderr.strip()}")
            ends = sorted(os.listdir(os.path.join(out, "sensitivity")),
                          key=lambda x: float(x[1:]))
            v = [load(os.path.join(out, *x))[1] for x in
                 [("",), ("sensitivity", ends[0]), ("sensitivity", ends[-1])]]
            real = load(os.path.join(real_dir, run))[1]
            rows.append({"run": run, "sim_viol_pct": "%.3f" % v[0],
                         "shorter_viol_pct": "%.3f" % v[1],
                         "longer_viol_pct": "%.3f" % v[2],
                         "real_viol_pct": "%.3f" % real,
                         "inside": int(v[1] <= real <= v[2])})
    write_csv(os.path.join(d, "band-%s.csv" % pct), rows)
    print("| run | simulated | %s %% shorter .. longer | real | inside |"
          % pct)
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s .. %s | %s | %s |" % (
            r["run"], r["sim_viol_pct"], r["shorter_viol_pct"],
            r["longer_viol_pct"], r["real_viol_pct"],
            "yes" if r["inside"] else "no"))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "band":
        band(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "power":
        power(sys.argv[2:])
        return
    if len(sys.argv) != 2:
        die("usage: validate-policies.py DIR | band DIR PCT MEASURED | "
            "power CSV...")
    d = sys.argv[1]
    real_dir = os.path.join(d, "real")
    if not os.path.isdir(real_dir):
        die(f"{real_dir}: no such folder")
    sims = sorted(n[4:] for n in os.listdir(d) if n.startswith("sim-"))
    rows = []
    for run in sorted(os.listdir(real_dir)):
        real = load(os.path.join(real_dir, run))
        if real is None:
            die(f"{real_dir}/{run}: incomplete or unreadable "
                "summary.json / workloads.csv")
        again = load(os.path.join(d, "real-again", run))
        scale, policy, arrivals = split(run)
        row = {"run": run, "scale": scale, "policy": policy,
               "arrivals": arrivals, "gpus": real[0],
               "real_viol_pct": "%.3f" % real[1],
               "again_viol_pct": "%.3f" % again[1] if again else "",
               "again_mean_err_pct":
                   "%.2f" % err_pct(again[2], real[2], 0) if again else ""}
        for s in sims:
            r = load(os.path.join(d, "sim-" + s, run))
            row[s + "_viol_pct"] = "%.3f" % r[1] if r else ""
            row[s + "_mean_err_pct"] = (
                "%.2f" % err_pct(r[2], real[2], 0) if r else "")
            row[s + "_p99_err_pct"] = (
                "%.2f" % err_pct(r[2], real[2], 1) if r else "")
        rows.append(row)
    write_csv(os.path.join(d, "policies.csv"), rows)
    grows = [g for r in rows if r["arrivals"] == "poisson"
             for g in gpu_rows(d, r["run"], sims)]
    if grows:
        write_csv(os.path.join(d, "policies-gpus.csv"), grows)

    head = ["run", "GPUs", "real viol. %", "again"] + \
        ["sim %s viol. %% (mean / P99 err. %%)" % s for s in sims]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["run"], str(r["gpus"]), r["real_viol_pct"],
                 r["again_viol_pct"] or "-"]
        for s in sims:
            v = r[s + "_viol_pct"]
            cells.append("%s (%s / %s)" % (v, r[s + "_mean_err_pct"],
                                           r[s + "_p99_err_pct"])
                         if v else "-")
        print("| " + " | ".join(cells) + " |")

    # the verdict: per scale and arrivals, the policies ordered by
    # violations, then GPUs, by each source
    print()
    groups = sorted({(r["scale"], r["arrivals"]) for r in rows})
    for g in groups:
        rs = [r for r in rows if (r["scale"], r["arrivals"]) == g]
        out = []
        for src in ["real"] + sims:
            k = src + "_viol_pct"
            have = [r for r in rs if r[k] != ""]
            order = sorted(have, key=lambda r: (float(r[k]), r["gpus"]))
            out.append("%s: %s" % (src, " < ".join(
                "%s (%d, %.2f)" % (r["policy"], r["gpus"], float(r[k]))
                for r in order)))
        print("%s %s: %s" % (g[0], g[1], "; ".join(out)))


if __name__ == "__main__":
    main()
