#!/usr/bin/env python3
"""scripts/validate-matrix.py - the validation matrix (experiments/validation/
README.md, "The matrix"): plans off the measured grid at three loads, and the
simulator's error per load level, arrival kind and sharing mechanism.

  validate-matrix.py plans [--mps] MEASURED OUTDIR [TEMPLATES]
      For every template (experiments/validation/matrix/templates.json), the
      capacity the measured data predicts: igniter sim with the measured back
      end and every workload saturated (each instance always has a full batch
      waiting), capacity = batch / mean service time. Writes OUTDIR/NAME-lLL.json
      for every load LL, each workload at LL % of its capacity, SLO = slo_x
      times its batch time at capacity, and OUTDIR/capacity.csv. --mps: the
      capacity under MPS (--mechanism mps: the data's MPS correction,
      measured-mps.jsonl beside MEASURED). --calibration CSV: the capacity
      the calibrated simulation predicts: the green data, each workload's
      batch times scaled by its factor in CSV (a calibration.csv that
      `calibrate` wrote; its mps rows with --mps, else its green rows), for
      the templates CSV has.
  validate-matrix.py calibrate OUT MEASURED [PLANS]
      Simulates every real run again, calibrated with one real run
      (scripts/calibrate.py): the factors of the plan's 50 % Poisson run of
      the same mechanism (OUT/real[-mps]/T-l50-poisson against
      OUT/sim-measured/T-l50-poisson), applied as --slowdown; same plan
      (PLANS/T-lLL.json, default experiments/validation/matrix/plans),
      arrivals, seed, duration and warm-up as the real run. Writes
      OUT/sim-calibrated[-mps]/RUN and OUT/calibration.csv; where both
      calibration runs have a trace, also OUT/sim-calibrated-wake[-mps]/RUN,
      calibrated with calibrate.py's fit from the batches (a factor from
      the back-to-back batches and a wake cost, --wake). --calibration CSV:
      the factors (and wake costs) of CSV instead, another folder's
      calibration.csv (plans made at its calibrated capacity: `plans
      --calibration`), so that OUT needs no 50 % run of its own.
  validate-matrix.py table OUT
      Reads OUT/real/RUN, OUT/real-mps/RUN (RUN is PLAN-ARRIVALS,
      scripts/validate.sh) and each simulation of them that exists:
      OUT/sim-measured (the green-context data), OUT/sim-measured-mps (the
      measured back end with --mechanism mps: the data's MPS correction)
      and OUT/sim-calibrated[-mps]. Writes OUT/matrix.csv (one row per run,
      workload and simulation; the last column, sim_data, says which:
      green, mps, calibrated or calibrated-wake) and OUT/matrix-summary.csv (per mechanism,
      load, arrivals and simulation: mean and max of the mean-latency
      error, the P99 error and the SLO-violation difference), and prints
      the summary as a Markdown table.
  validate-matrix.py wake OUT
      What a batch costs when its instance was idle, from the real runs'
      traces (OUT/real[-mps]/RUN/trace.json.gz, serve's first 2,000
      batches): per run, workload and batch size (10 batches of each kind
      at least), the mean time of a batch that started more than 20 us
      after the instance's previous one ended, less that of one started
      back to back; writes OUT/wake.csv and prints the mean per mechanism.
  validate-matrix.py band OUT MEASURED PLANS [PCT]
      Every real run of OUT (OUT/real[-mps]/RUN) simulated again from the
      measured data alone (PLANS/PLAN.json, the run's arrivals, seed,
      duration and warm-up) with igniter sim --sensitivity PCT (default 3):
      is the real mean latency inside the simulated band, every batch PCT %
      shorter to PCT % longer, and the real SLO violations inside it (0.5
      points of slack)? Writes OUT/band-PCT.csv and prints the counts per
      mechanism, load and arrivals.
  validate-matrix.py alone OUTDIR PLAN...
      Every workload of every PLAN (T.json) alone: OUTDIR/T-W.json,
      the plan with its workload W only (same batch, share, rate and SLO),
      for real runs of each co-located workload without its partners
      (what a batch costs in serve alone, against the capture's solo point).
  validate-matrix.py alone-table ALONE GREEN MPS
      Those runs alone against the plans' co-located runs: ALONE/real[-mps]/
      T-lLL-W-poisson and their simulations (validate.sh sim: ALONE/
      sim-measured[-mps]/), against GREEN/real/T-lLL-poisson and MPS/
      real-mps/T-lLL-poisson and theirs. Per workload: the mean batch time
      alone, real and simulated, and the slow-down co-location adds (co-
      located over alone), real and simulated; where ALONE/mps-coloc.jsonl
      exists (scripts/mps-coloc-gpu.sh), also the slow-down the capture's
      always-busy MPS clients show at the same batches and shares. Writes
      ALONE/alone.csv and prints the means per mechanism.
  validate-matrix.py mps-totals SOLO PAIRS...
      The MPS pairs' slow-down by the share of the threads the pair holds:
      each member's pair latency (PAIRS: "kind":"coloc" records of
      igniter-capture mps) over its MPS solo latency at the same batch (SOLO:
      "kind":"solo" records), interpolated in share as the MPS correction
      does (linear in 1/share between measured percentages). Prints the
      mean, least and largest per total.
  validate-matrix.py chips OUTCSV A B [A B]...
      Real runs against real runs: for each pair of folders A, B (each with
      real[-mps]/RUN, as OUT above), the runs and workloads in both, B's
      mean latency, P99 and SLO violations against A's as the simulator's
      are against the real run's in `table` (|B - A| / A; violations in
      points). The same plans, arrivals and seed on two chips (or twice on
      one): how far apart two real GPUs are. Writes OUTCSV (a row per pair,
      mechanism, load and arrivals) and prints it as a Markdown table.
  validate-matrix.py floor OUTCSV CHIPS DIR...
      The simulator beside the floor real GPUs set: for each mechanism,
      load and arrivals, the mean, least and largest over the DIRs (each a
      chip's folder with its matrix-summary.csv) of the mean latency error
      predicted from the data alone (sim_data green, or mps for MPS) and
      calibrated, and over the rows of CHIPS (a chips.csv) whose folders A
      and B are both among the DIRs, real against real (the mechanisms of
      those rows only). Writes OUTCSV (for
      scripts/plot-chips.gp) and prints it as a Markdown table.
  validate-matrix.py random-templates OUT SEED N3 N4
      N3 templates of 3 workloads and N4 of 4 (random, from SEED: distinct
      models of the five, batches 2, 4, 8, 16 or 32, 16 to 64 SMs each in
      steps of 8, 72 to 132 SMs together), in templates.json's shape, for
      co-locations nobody chose (scripts/mps-coloc-gpu.sh times them;
      scripts/mps-runs-fit.py and mps-coloc-raw.py read them).
  validate-matrix.py ab DIR
      The algorithm file's A/B (DIR: experiments/validation/matrix/results/
      algos-ab): for each RUN and workload in both DIR/M-with/RUN and
      DIR/M-own/RUN (M: green or mps), the mean batch time with the
      capture's cuDNN choices and with serve's own search; writes
      DIR/algos-ab.csv and prints the mean and largest difference.
Errors name the file and exit 2.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

IGNITER = os.environ.get("IGNITER", "build/igniter")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate  # noqa: E402  (scripts/calibrate.py, beside this file)


def die(msg):
    print("validate-matrix: " + msg, file=sys.stderr)
    sys.exit(2)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))


def read_jsonl(path):
    """The JSON objects of a file of JSON lines, in order."""
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                try:
                    yield json.loads(line)
                except ValueError as e:
                    die("%s:%d: %s" % (path, n, e))
    except OSError as e:
        die("%s: %s" % (path, e))


def read_rows(path):
    """The rows of a CSV with a header, as dicts."""
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        die("%s: %s" % (path, e))


def write_rows(path, hdr, rows):
    """A CSV of the header and rows, floats with two decimals."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(hdr)
        for r in rows:
            w.writerow([("%.2f" % v if isinstance(v, float) else v)
                        for v in r])


def plan_of(t, name, rates, slos, gpu_type, sms):
    ws = []
    for i, (model, batch, nsm) in enumerate(t):
        ws.append({"name": "%s-%d" % (model, i) if [m for m, _, _ in t].count(model) > 1 else model,
                   "model": model, "batch": batch,
                   "resource_pct": 100.0 * nsm / sms,
                   "rate_rps": rates[i], "slo_ms": slos[i]})
    return {"format": 1,
            "generator": "scripts/validate-matrix.py (template %s)" % name,
            "policy": "manual", "policy_version": 1, "faithful": False,
            "gpu_type": gpu_type, "price_per_hour": 1, "num_gpus": 1,
            "cost_per_hour": 1,
            "gpus": [{"gpu": 0, "type": gpu_type, "replica": False,
                      "workloads": ws}]}


def capacity(measured, plan, mps=False, factors=None):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "plan.json")
        with open(p, "w") as f:
            json.dump(plan, f)
        out = os.path.join(d, "out")
        # the mean service times (measured-mean): capacity is a mean
        args = [IGNITER, "sim", "--plan", p, "--backend", "measured-mean",
                "--measured", measured, "--duration-s", "4", "--warmup-s",
                "1", "--seed", "1", "--arrivals", "poisson", "--quiet",
                "--out", out]
        if mps and not factors:
            args += ["--mechanism", "mps"]
        for w, f in sorted((factors or {}).items()):
            args += ["--slowdown", "%s:%.4f" % (w, f)]
        r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode == 2 and "measured-mean" in r.stderr:
            # a build from before the service-time distributions, whose
            # measured back end used the mean
            args[5] = "measured"
            r = subprocess.run(args, capture_output=True, text=True)
        if r.returncode:
            die("igniter sim of the saturated plan failed: " + r.stderr)
        s = load_json(os.path.join(out, "summary.json"))
    caps = []
    for w in s["workloads"]:
        svc, b = w["mean_service_ms"], w["mean_batch"]
        caps.append((1000.0 * b / svc, svc, b))
    return caps


def calibration_factors(path, mech):
    """{template: {workload: factor}} of mechanism mech in a
    calibration.csv."""
    out = {}
    try:
        with open(path) as f:
            for i, row in enumerate(csv.DictReader(f), 2):
                if row.get("mechanism") != mech:
                    continue
                try:
                    v = float(row["factor"])
                except (KeyError, TypeError, ValueError):
                    die("%s: line %d: factor: expected a number, got %r"
                        % (path, i, row.get("factor")))
                out.setdefault(row["template"], {})[row["workload"]] = v
    except OSError as e:
        die("%s: %s" % (path, e))
    if not out:
        die("%s: no %s rows" % (path, mech))
    return out


def cmd_plans(measured, outdir, tpath, mps=False, calib=None):
    t = load_json(tpath)
    cf = calibration_factors(calib, "mps" if mps else "green") \
        if calib else None
    os.makedirs(outdir, exist_ok=True)
    rows = []
    for name, tpl in sorted(t["templates"].items()):
        if cf is not None and name not in cf:
            continue
        sat = plan_of(tpl, name, [1e6] * len(tpl), [1e6] * len(tpl),
                      t["gpu_type"], t["gpu_sms"])
        caps = capacity(measured, sat, mps, cf[name] if cf else None)
        for (model, batch, nsm), (cap, svc, b) in zip(tpl, caps):
            if abs(b - batch) > 1e-6:
                die("%s: template %s: %s did not run full batches when "
                    "saturated (mean batch %g, not %d)" % (tpath, name, model,
                                                           b, batch))
            rows.append([name, model, batch, nsm, "%.4f" % svc, "%.2f" % cap])
        slos = [round(t["slo_x"] * svc, 3) for _, svc, _ in caps]
        for load in t["loads_pct"]:
            rates = [round(load / 100.0 * c, 1) for c, _, _ in caps]
            p = plan_of(tpl, name, rates, slos, t["gpu_type"], t["gpu_sms"])
            how = " under MPS (--mechanism mps)" if mps else ""
            if calib:
                how = ", calibrated with the %s factors of %s" % (
                    "mps" if mps else "green", calib)
            p["generator"] += ", %d %% of the capacity on %s%s" % (
                load, measured, how)
            path = os.path.join(outdir, "%s-l%d.json" % (name, load))
            with open(path + ".tmp", "w") as f:
                json.dump(p, f, indent=1)
                f.write("\n")
            os.replace(path + ".tmp", path)
    with open(os.path.join(outdir, "capacity.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["template", "model", "batch", "sms", "batch_ms",
                    "capacity_rps"])
        w.writerows(rows)


def err_pct(sim, real):
    if sim is None or real is None or real <= 0:
        return None
    return 100.0 * (sim - real) / real


def calibrated_dir(mech, wake=False):
    return ("sim-calibrated-wake" if wake else "sim-calibrated") + \
        ("-mps" if mech == "mps" else "")


MECH_DIRS = (("green", "real"), ("mps", "real-mps"))


def run_dirs(out):
    """(mechanism, run, its folder) of every real run of OUT
    (OUT/real[-mps]/RUN), in order."""
    for mech, rdir in MECH_DIRS:
        base = os.path.join(out, rdir)
        if os.path.isdir(base):
            for run in sorted(os.listdir(base)):
                yield mech, run, os.path.join(base, run)


def complete_runs(out):
    """(mechanism, run, its summary) of every complete real run of OUT
    (OUT/real[-mps]/RUN/summary.json), in order."""
    for mech, run, d in run_dirs(out):
        rs = os.path.join(d, "summary.json")
        if os.path.exists(rs):
            s = load_json(rs)
            if s.get("complete"):
                yield mech, run, s


def resim_args(plans, run, summary, measured, d):
    """igniter sim of a real run again from the measured data: its plan
    (PLANS/PLAN.json, RUN being PLAN-ARRIVALS), arrivals, seed, duration
    and warm-up, into d."""
    plan, arr = run.rsplit("-", 1)
    inp = summary["inputs"]
    spec = "poisson" if arr == "poisson" else \
        "replay:traces/azure/azure-llm-2023-code.csv:loop"
    return [IGNITER, "sim", "--plan", os.path.join(plans, plan + ".json"),
            "--duration-s", "%g" % inp["duration_s"],
            "--warmup-s", "%g" % inp["warmup_s"],
            "--seed", "%d" % inp["seed"], "--arrivals", spec, "--quiet",
            "--backend", "measured", "--measured", measured, "--out", d]


def read_calibration(path):
    """A calibration.csv: ({(mechanism, template): ((factors, {}),
    [(b2b factors, wakes)])}, {(mechanism, template): its rows})."""
    got, rows = {}, {}
    try:
        with open(path) as f:
            for i, r in enumerate(csv.DictReader(f), 2):
                try:
                    k = (r["mechanism"], r["template"])
                    a = got.setdefault(k, [({}, {}), ({}, {})])
                    a[0][0][r["workload"]] = float(r["factor"])
                    if r.get("b2b_factor"):
                        a[1][0][r["workload"]] = float(r["b2b_factor"])
                    if r.get("wake_us"):
                        a[1][1][r["workload"]] = float(r["wake_us"])
                except (KeyError, TypeError, ValueError):
                    die("%s: line %d: expected mechanism, template, workload "
                        "and numbers, got %r" % (path, i, r))
                rows.setdefault(k, []).append(
                    [r["mechanism"], r["template"], r["workload"], r["factor"],
                     r.get("b2b_factor", ""), r.get("wake_us", "")])
    except OSError as e:
        die("%s: %s" % (path, e))
    # as calibrate's own: the wake calibration only where it was fitted
    return ({k: v if v[1][1] else v[:1] for k, v in got.items()}, rows)


def cmd_calibrate(out, measured, plans, calib=None):
    rows = []
    given, given_rows = read_calibration(calib) if calib else (None, None)
    cache = {}
    for mech, run, summary in complete_runs(out):
        base = os.path.join(out, dict(MECH_DIRS)[mech])
        tpl = run.rsplit("-", 1)[0].rsplit("-l", 1)[0]
        ref = "%s-l50-poisson" % tpl
        key = (mech, tpl)
        if key not in cache and given is not None:
            # the factors of another results folder's calibration runs
            f = given.get(key)
            if f is None:
                die("%s: no %s rows of template %s" % (calib, mech, tpl))
            cache[key] = tuple(f)
            rows += given_rows[key]
        if key not in cache:
            rr = os.path.join(base, ref)
            sr = os.path.join(out, "sim-measured", ref)
            if not os.path.exists(os.path.join(sr, "summary.json")):
                die("%s: no simulation of the calibration run %s "
                    "(scripts/validate.sh OUT sim first)" % (sr, ref))
            # two calibrations: a factor per workload from the runs'
            # mean batch times (calibrate.factors), and, when both
            # runs have a trace, a factor from the back-to-back
            # batches with a wake cost (calibrate.fit)
            f1 = calibrate.factors(rr, sr)
            f2, wk = calibrate.fit(rr, sr)
            cache[key] = ((f1, {}), (f2, wk)) if wk else ((f1, {}),)
            rows += [[mech, tpl, k, "%.4f" % v,
                      "%.4f" % f2[k] if wk else "",
                      "%.1f" % wk[k] if k in wk else ""]
                     for k, v in f1.items()]
        for wake, (f, wk) in enumerate(cache[key]):
            d = os.path.join(out, calibrated_dir(mech, wake), run)
            args = resim_args(plans, run, summary, measured, d) + \
                ["--trace", "2000"]
            for k, v in f.items():
                args += ["--slowdown", "%s:%.4f" % (k, v)]
            for k, v in wk.items():
                args += ["--wake", "%s:%.1f" % (k, v)]
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode:
                die("igniter sim of %s failed: %s" % (run, r.stderr))
    with open(os.path.join(out, "calibration.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mechanism", "template", "workload", "factor",
                    "b2b_factor", "wake_us"])
        w.writerows(rows)


def cmd_band(out, measured, plans, pct):
    """Is the real run inside the simulated band of +-pct % batch time?"""
    rows = []
    for mech, run, r in complete_runs(out):
        tpl, load = run.rsplit("-", 1)[0].rsplit("-l", 1)
        arr = run.rsplit("-", 1)[1]
        with tempfile.TemporaryDirectory() as d:
            args = resim_args(plans, run, r, measured, d) + \
                ["--sensitivity", "%g" % pct]
            sp = subprocess.run(args, capture_output=True, text=True)
            if sp.returncode:
                die("igniter sim of %s failed: %s" % (run, sp.stderr))
            with open(os.path.join(d, "sensitivity.csv")) as f:
                band = {}
                for x in csv.DictReader(f):
                    band.setdefault(x["workload"], []).append(x)
        for w in r["workloads"]:
            b = band.get(w["name"])
            if not b or len(b) != 3:
                die("%s: no band for workload %s" % (run, w["name"]))
            lo, mid, hi = b
            rm, rv = w["latency_ms"]["mean"], w["slo_violation_pct"]
            lm, hm = float(lo["mean_ms"]), float(hi["mean_ms"])
            lv, hv = float(lo["slo_violation_pct"]), \
                float(hi["slo_violation_pct"])
            rows.append([mech, tpl, int(load), arr, w["name"],
                         "%.4f" % rm, "%.4f" % lm, mid["mean_ms"],
                         "%.4f" % hm, int(lm <= rm <= hm),
                         "%.4f" % rv, "%.4f" % lv,
                         mid["slo_violation_pct"], "%.4f" % hv,
                         int(lv - 0.5 <= rv <= hv + 0.5)])
    if not rows:
        die("%s: no complete real run" % out)
    path = os.path.join(out, "band-%g.csv" % pct)
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mechanism", "template", "load_pct", "arrivals",
                    "workload", "real_mean_ms", "sim_mean_ms_low",
                    "sim_mean_ms", "sim_mean_ms_high", "mean_inside",
                    "real_slo_violation_pct", "sim_slo_violation_pct_low",
                    "sim_slo_violation_pct", "sim_slo_violation_pct_high",
                    "violation_inside"])
        w.writerows(rows)
    os.replace(path + ".tmp", path)
    groups = {}
    for x in rows:
        groups.setdefault((x[0], x[2], x[3]), []).append(x)
    print("| mechanism | load | arrivals | workloads | real mean latency "
          "inside the band | real violations inside (+-0.5 points) |")
    print("|---|---|---|---|---|---|")
    for (m, l, a), xs in sorted(groups.items()):
        print("| %s | %d %% | %s | %d | %d | %d |" % (
            m, l, a, len(xs), sum(x[9] for x in xs), sum(x[14] for x in xs)))


def cmd_alone(outdir, plans):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for path in plans:
        f = os.path.basename(path)
        if not f.endswith(".json"):
            die("%s: expected a plan, NAME.json" % path)
        pl = load_json(path)
        try:
            ws = pl["gpus"][0]["workloads"]
        except (KeyError, IndexError, TypeError):
            die("%s: gpus[0].workloads: expected a list" % path)
        for w in ws:
            one = json.loads(json.dumps(pl))
            one["gpus"][0]["workloads"] = [w]
            one["generator"] = "%s; %s alone (validate-matrix.py alone)" % (
                pl.get("generator", f), w["name"])
            with open(os.path.join(outdir, "%s-%s.json" % (f[:-5], w["name"])),
                      "w") as o:
                json.dump(one, o, indent=1)
                o.write("\n")
            n += 1
    print("validate-matrix: %d plans of one workload in %s" % (n, outdir))


def mean_service(d, name=None):
    """The mean batch time of workload name (the first one when None) in
    the run folder d, or None when d has no complete run."""
    p = os.path.join(d, "summary.json")
    if not os.path.exists(p):
        return None
    s = load_json(p)
    for w in s.get("workloads", []):
        if name is None or w.get("name") == name:
            return w.get("mean_service_ms")
    return None


def capture_slowdowns(path):
    """{(plan, model): together / alone mean batch time} of the capture's
    MPS clients (scripts/mps-coloc-gpu.sh's JSON lines), {} without."""
    if not os.path.exists(path):
        return {}
    t = {}
    for n, r in enumerate(read_jsonl(path), 1):
        try:
            t[(r["plan"], r["model"], r["run"])] = float(r["mean_ms"])
        except (ValueError, KeyError, TypeError) as e:
            die("%s:%d: expected a JSON line with plan, model, run and "
                "mean_ms (%s)" % (path, n, e))
    return {(p, m): t[(p, m, "together")] / a
            for (p, m, run), a in t.items()
            if run == "alone" and (p, m, "together") in t and a > 0}


def cmd_alone_table(alone, green, mps):
    cap = capture_slowdowns(os.path.join(alone, "mps-coloc.jsonl"))
    rows = []
    for mech, run, d in run_dirs(alone):
        sim = "sim-measured" + ("-mps" if mech == "mps" else "")
        co = (mps, "real-mps") if mech == "mps" else (green, "real")
        # RUN is T-lLL-W-poisson: its co-located run is T-lLL-poisson
        parts = run.split("-")
        if len(parts) < 4 or not parts[1].startswith("l"):
            die("%s: expected a run named T-lLL-W-ARRIVALS" % d)
        w, co_run = "-".join(parts[2:-1]), "-".join(parts[:2] + parts[-1:])
        ra, sa = mean_service(d), mean_service(os.path.join(alone, sim, run))
        rc = mean_service(os.path.join(co[0], co[1], co_run), w)
        sc = mean_service(os.path.join(co[0], sim, co_run), w)
        if ra is None or sa is None:
            die("%s: no simulation of it in %s (validate.sh sim)" %
                (d, os.path.join(alone, sim, run)))
        row = [mech, co_run, w, "%.4f" % ra, "%.4f" % sa,
               "%.2f" % err_pct(sa, ra)]
        if rc is not None and sc is not None:
            row += ["%.4f" % rc, "%.4f" % sc, "%.4f" % (rc / ra),
                    "%.4f" % (sc / sa), "%.4f" % ((rc / ra) / (sc / sa))]
        else:
            row += [""] * 5
        c = cap.get((co_run.rsplit("-", 1)[0], w)) if mech == "mps" else None
        row.append("%.4f" % c if c else "")
        rows.append(row)
    if not rows:
        die("%s: no real run (real/ or real-mps/)" % alone)
    with open(os.path.join(alone, "alone.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["mechanism", "colocated_run", "workload",
                     "real_alone_ms", "sim_alone_ms", "alone_err_pct",
                     "real_colocated_ms", "sim_colocated_ms",
                     "real_slowdown", "sim_slowdown",
                     "real_over_sim_slowdown", "capture_slowdown"])
        wr.writerows(rows)
    for mech in ("green", "mps"):
        e = [float(r[5]) for r in rows if r[0] == mech]
        q = [float(r[10]) for r in rows if r[0] == mech and r[10]]
        if not e:
            continue
        print("%s: alone, simulated batch time %+.2f %% signed, %.2f %% "
              "|mean| (%d workloads)" % (mech, sum(e) / len(e),
                                         sum(map(abs, e)) / len(e), len(e)))
        if q:
            print("%s: co-location's slow-down, real over simulated: %.3f "
                  "mean, %.3f to %.3f (%d workloads)" %
                  (mech, sum(q) / len(q), min(q), max(q), len(q)))
        c = [(float(r[11]), float(r[8]), float(r[9])) for r in rows
             if r[0] == mech and r[11] and r[8]]
        if c:
            print("%s: slow-down, the capture's always-busy clients / serve "
                  "/ simulated: %.3f / %.3f / %.3f mean (%d workloads)" %
                  (mech, sum(x[0] for x in c) / len(c),
                   sum(x[1] for x in c) / len(c),
                   sum(x[2] for x in c) / len(c), len(c)))


def cmd_mps_totals(solo_path, pair_paths):
    solo = {}
    for r in read_jsonl(solo_path):
        if r.get("kind") == "solo" and r.get("mech") == "mps":
            solo.setdefault((r["model"], r["batch"]), {})[
                r["active_thread_pct"]] = r["mean_ms"]

    def solo_at(m, b, p):
        t = solo.get((m, b))
        if not t:
            die("%s: no MPS solo point of %s at batch %d" % (solo_path, m, b))
        ps = sorted(t)
        lo = max([x for x in ps if x <= p], default=ps[0])
        hi = min([x for x in ps if x >= p], default=ps[-1])
        if lo == hi:
            return t[lo]
        f = (1 / p - 1 / lo) / (1 / hi - 1 / lo)
        return t[lo] * (1 - f) + t[hi] * f
    by = {}
    for path in pair_paths:
        for r in read_jsonl(path):
            if r.get("kind") != "coloc" or r.get("mech") != "mps":
                continue
            ms = r["members"]
            tot = round(sum(m["active_thread_pct"] for m in ms), 1)
            for m in ms:
                by.setdefault(tot, []).append(
                    m["mean_ms"] / solo_at(m["model"], m["batch"],
                                           m["active_thread_pct"]))
    if not by:
        die("no MPS pair in %s" % ", ".join(pair_paths))
    print("| threads held | members | MPS slow-down, mean (least-largest) |")
    print("|---|---|---|")
    for tot in sorted(by):
        v = by[tot]
        print("| %.1f %% | %d | %.3f (%.3f-%.3f) |" %
              (tot, len(v), sum(v) / len(v), min(v), max(v)))


def cmd_chips(outcsv, dirs):
    if len(dirs) % 2:
        die("chips: expected folders in pairs A B, got %d" % len(dirs))
    rows = []
    for a, b in zip(dirs[::2], dirs[1::2]):
        ra = {(m, run): s for m, run, s in complete_runs(a)}
        rb = {(m, run): s for m, run, s in complete_runs(b)}
        both = sorted(set(ra) & set(rb))
        if not both:
            die("chips: %s and %s have no complete run in common" % (a, b))
        groups = {}
        for mech, run in both:
            plan, arr = run.rsplit("-", 1)
            load = int(plan.rsplit("-l", 1)[1])
            wb = {w["name"]: w for w in rb[(mech, run)]["workloads"]}
            for w in ra[(mech, run)]["workloads"]:
                x = wb.get(w["name"])
                if x is None:
                    die("%s: run %s has no workload %s" % (b, run, w["name"]))
                groups.setdefault((mech, load, arr), []).append((
                    err_pct(x["latency_ms"]["mean"], w["latency_ms"]["mean"]),
                    err_pct(x["latency_ms"]["p99"], w["latency_ms"]["p99"]),
                    x["slo_violation_pct"] - w["slo_violation_pct"]))
        for key in sorted(groups):
            g = groups[key]
            col = [[abs(v[i]) for v in g if v[i] is not None]
                   for i in range(3)]
            rows.append([os.path.basename(os.path.normpath(a)),
                         os.path.basename(os.path.normpath(b))] + list(key) +
                        [len(g)] + [f(c) for c in col for f in
                                    (lambda c: sum(c) / len(c), max)])
    hdr = ["a", "b", "mechanism", "load_pct", "arrivals", "workloads",
           "mean_diff_pct", "mean_diff_max_pct", "p99_diff_pct",
           "p99_diff_max_pct", "slo_violation_diff_pts",
           "slo_violation_diff_max_pts"]
    write_rows(outcsv, hdr, rows)
    print("| A | B | mechanism | load | arrivals | workloads | mean latency "
          "(max) | P99 (max) | violations, points (max) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %d %% | %s | %d | %.1f %% (%.1f) | %.1f %% "
              "(%.1f) | %.1f (%.1f) |" % tuple(r))


def cmd_floor(outcsv, chips, dirs):
    names = {os.path.basename(os.path.normpath(d)) for d in dirs}
    vals = {}
    for d in dirs:
        for r in read_rows(os.path.join(d, "matrix-summary.csv")):
            sd = r["sim_data"]
            kind = {"green": "predicted", "calibrated": "calibrated"}.get(sd)
            if r["mechanism"] == "mps":
                kind = {"mps": "predicted",
                        "calibrated": "calibrated"}.get(sd)
            if kind:
                vals.setdefault((r["mechanism"], int(r["load_pct"]),
                                 r["arrivals"], kind), []).append(
                    float(r["mean_err_pct"]))
    for r in read_rows(chips):
        if r["a"] in names and r["b"] in names:
            vals.setdefault((r["mechanism"], int(r["load_pct"]),
                             r["arrivals"], "real-vs-real"), []).append(
                float(r["mean_diff_pct"]))
    mechs = {k[0] for k in vals if k[3] == "real-vs-real"}
    if not mechs:
        die("%s: no row whose folders are both among the DIRs (%s)" %
            (chips, ", ".join(sorted(names))))
    # a mechanism no two real chips ran is left out
    vals = {k: v for k, v in vals.items() if k[0] in mechs}
    order = {"predicted": 0, "calibrated": 1, "real-vs-real": 2}
    keys = sorted(vals, key=lambda k: (k[0], k[2], k[1], order[k[3]]))
    with open(outcsv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mechanism", "load_pct", "arrivals", "kind", "n",
                    "mean_err_pct", "least_pct", "largest_pct"])
        for k in keys:
            v = vals[k]
            w.writerow(list(k) + [len(v), "%.2f" % (sum(v) / len(v)),
                                  "%.2f" % min(v), "%.2f" % max(v)])
    print("| mechanism | arrivals | load | kind | n | mean latency error, "
          "mean (least-largest) |")
    print("|---|---|---|---|---|---|")
    for k in keys:
        v = vals[k]
        # chips.csv holds two decimals: 4.55 prints 4.6, as chips' own table
        print("| %s | %s | %d %% | %s | %d | %.1f %% (%.1f-%.1f) |" %
              (k[0], k[2], k[1], k[3], len(v), sum(v) / len(v) + 1e-9,
               min(v) + 1e-9, max(v) + 1e-9))


MODELS5 = ("alexnet", "resnet50", "vgg19", "ssd300", "vit_b16")


def cmd_random_templates(out, seed, n3, n4):
    import random
    rng = random.Random(seed)
    tpl = {}
    for n, count in ((3, n3), (4, n4)):
        for k in range(count):
            while True:
                sms = [8 * rng.randint(2, 8) for _ in range(n)]
                if 72 <= sum(sms) <= 132:
                    break
            models = rng.sample(MODELS5, n)
            tpl["r%d-%02d" % (n, k)] = [[m, rng.choice((2, 4, 8, 16, 32)), x]
                                        for m, x in zip(models, sms)]
    doc = {"about": "Random co-locations (scripts/validate-matrix.py "
                    "random-templates %s %d %d %d): distinct models, "
                    "batches of the measured grid, 16-64 SMs each, 72-132 "
                    "together" % (out, seed, n3, n4),
           "gpu_type": "H200", "gpu_sms": 132, "loads_pct": [75],
           "slo_x": 4, "templates": tpl}
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(out + ".tmp", out)


def cmd_ab(d):
    rows = []
    for mech in ("green", "mps"):
        a, b = os.path.join(d, mech + "-with"), os.path.join(d, mech + "-own")
        if not os.path.isdir(a) or not os.path.isdir(b):
            continue
        for run in sorted(set(os.listdir(a)) & set(os.listdir(b))):
            x = {w["name"]: w for w in
                 load_json(os.path.join(a, run, "summary.json"))["workloads"]}
            y = {w["name"]: w for w in
                 load_json(os.path.join(b, run, "summary.json"))["workloads"]}
            for k in x:
                sw, so = x[k]["mean_service_ms"], y[k]["mean_service_ms"]
                rows.append([mech, run, k, "%.6f" % sw, "%.6f" % so,
                             "%.2f" % (100.0 * (so - sw) / sw)])
    if not rows:
        die("%s: no run in both M-with/ and M-own/" % d)
    with open(os.path.join(d, "algos-ab.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mechanism", "run", "workload", "with_file_service_ms",
                    "own_search_service_ms", "difference_pct"])
        w.writerows(rows)
    for mech in ("green", "mps"):
        v = [abs(float(r[5])) for r in rows if r[0] == mech]
        if v:
            print("%s: %d workloads, own search against the file: mean "
                  "|difference| %.2f %%, largest %.2f %%" %
                  (mech, len(v), sum(v) / len(v), max(v)))


def cmd_wake(out):
    rows = []
    for mech, run, d in run_dirs(out):
        tp = os.path.join(d, "trace.json.gz")
        if not os.path.exists(tp):
            continue
        # idle starts and back-to-back ones, as calibrate.py tells them
        # apart
        for w, (idle, busy) in sorted(calibrate.split(tp, True).items()):
            for b in sorted(idle):
                i, k = idle[b], busy.get(b, [])
                if (len(i) >= calibrate.MIN_BATCHES and
                        len(k) >= calibrate.MIN_BATCHES):
                    mi, mk = calibrate.mean(i), calibrate.mean(k)
                    rows.append([mech, run, w, b, len(i), len(k),
                                 "%.1f" % mi, "%.1f" % mk, "%.1f" % (mi - mk)])
    if not rows:
        die("%s: no real run with a trace.json.gz" % out)
    with open(os.path.join(out, "wake.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["mechanism", "run", "workload", "batch", "idle_batches",
                     "back_to_back_batches", "idle_us", "back_to_back_us",
                     "difference_us"])
        wr.writerows(rows)
    for mech in ("green", "mps"):
        v = [float(r[8]) for r in rows if r[0] == mech]
        if v:
            print("%s: %d (run, workload, batch) groups: a batch after an "
                  "idle gap takes %+.1f us on average (%+.1f to %+.1f) "
                  "against one started back to back" %
                  (mech, len(v), sum(v) / len(v), min(v), max(v)))


def cmd_table(out):
    rows = []
    for mech, run, r in complete_runs(out):
        sources = [("green", "sim-measured")]
        if mech == "mps":
            sources.append(("mps", "sim-measured-mps"))
        sources.append(("calibrated", calibrated_dir(mech)))
        sources.append(("calibrated-wake", calibrated_dir(mech, True)))
        for sim_data, sdir in sources:
            ss = os.path.join(out, sdir, run, "summary.json")
            if not os.path.exists(ss):
                continue
            s = load_json(ss)
            plan, arr = run.rsplit("-", 1)
            tpl, load = plan.rsplit("-l", 1)
            sw = {w["name"]: w for w in s["workloads"]}
            for w in r["workloads"]:
                x = sw.get(w["name"])
                if x is None:
                    die("%s: no workload %s" % (ss, w["name"]))
                rows.append({
                    "mechanism": mech, "template": tpl, "load_pct": int(load),
                    "arrivals": arr, "workload": w["name"],
                    "real_mean_ms": w["latency_ms"]["mean"],
                    "sim_mean_ms": x["latency_ms"]["mean"],
                    "real_p99_ms": w["latency_ms"]["p99"],
                    "sim_p99_ms": x["latency_ms"]["p99"],
                    "real_service_ms": w["mean_service_ms"],
                    "sim_service_ms": x["mean_service_ms"],
                    "real_slo_violation_pct": w["slo_violation_pct"],
                    "sim_slo_violation_pct": x["slo_violation_pct"],
                    "sim_data": sim_data})
    if not rows:
        die("%s: no run with both a real and a simulated summary" % out)
    for x in rows:
        x["mean_err_pct"] = err_pct(x["sim_mean_ms"], x["real_mean_ms"])
        x["p99_err_pct"] = err_pct(x["sim_p99_ms"], x["real_p99_ms"])
        x["service_err_pct"] = err_pct(x["sim_service_ms"],
                                       x["real_service_ms"])
        x["slo_violation_diff"] = (x["sim_slo_violation_pct"] -
                                   x["real_slo_violation_pct"])
        x["sim_data"] = x.pop("sim_data")    # the last column: the figure
        #                                      script reads columns by number
    keys = list(rows[0].keys())
    with open(os.path.join(out, "matrix.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for x in rows:
            w.writerow({k: ("%.4f" % v if isinstance(v, float) else v)
                        for k, v in x.items()})
    groups = {}
    for x in rows:
        groups.setdefault((x["mechanism"], x["load_pct"], x["arrivals"],
                           x["sim_data"]), []).append(x)

    def stat(xs, k):
        v = [abs(x[k]) for x in xs if x[k] is not None]
        return (sum(v) / len(v), max(v)) if v else (float("nan"),) * 2

    def signed(xs, k):
        v = [x[k] for x in xs if x[k] is not None]
        return sum(v) / len(v) if v else float("nan")
    summ = []
    for key in sorted(groups):
        xs = groups[key]
        runs = len({x["template"] for x in xs})
        m, mx = stat(xs, "mean_err_pct")
        p, px = stat(xs, "p99_err_pct")
        sv = signed(xs, "service_err_pct")
        d, dx = stat(xs, "slo_violation_diff")
        summ.append(list(key[:3]) + [runs, len(xs), m, mx, p, px, sv, d, dx,
                                     key[3]])
    hdr = ["mechanism", "load_pct", "arrivals", "runs", "workloads",
           "mean_err_pct", "mean_err_max_pct", "p99_err_pct",
           "p99_err_max_pct", "service_err_signed_pct",
           "slo_violation_diff_pts", "slo_violation_diff_max_pts",
           "sim_data"]
    write_rows(os.path.join(out, "matrix-summary.csv"), hdr, summ)
    print("| mechanism | load | arrivals | runs | workloads | mean latency "
          "error (max) | P99 error (max) | service time, signed | violation "
          "difference, points (max) | simulated data |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in summ:
        print("| %s | %d %% | %s | %d | %d | %.1f %% (%.1f) | %.1f %% (%.1f) |"
              " %+.1f %% | %.1f (%.1f) | %s |" % tuple(r))


def main(argv):
    mps, calib = False, None
    while len(argv) > 2 and argv[1] == "plans" and argv[2] in ("--mps",
                                                               "--calibration"):
        if argv[2] == "--mps":
            mps, argv = True, argv[:2] + argv[3:]
        elif len(argv) > 3:
            calib, argv = argv[3], argv[:2] + argv[4:]
        else:
            die("plans: --calibration: expected a file")
    if len(argv) in (4, 5) and argv[1] == "plans":
        tpl = argv[4] if len(argv) > 4 else \
            "experiments/validation/matrix/templates.json"
        cmd_plans(argv[2], argv[3], tpl, mps, calib)
    elif len(argv) == 3 and argv[1] == "table":
        cmd_table(argv[2])
    elif len(argv) in (4, 5, 6, 7) and argv[1] == "calibrate":
        calib = None
        if "--calibration" in argv:
            i = argv.index("--calibration")
            if i + 1 >= len(argv):
                die("calibrate: --calibration: expected a file")
            calib, argv = argv[i + 1], argv[:i] + argv[i + 2:]
        if len(argv) not in (4, 5):
            die("usage: validate-matrix.py calibrate OUT MEASURED [PLANS] "
                "[--calibration CSV]")
        cmd_calibrate(argv[2], argv[3], argv[4] if len(argv) > 4 else
                      "experiments/validation/matrix/plans", calib)
    elif len(argv) in (5, 6) and argv[1] == "band":
        try:
            pct = float(argv[5]) if len(argv) > 5 else 3.0
        except ValueError:
            die("band: PCT: expected a number, got %r" % argv[5])
        cmd_band(argv[2], argv[3], argv[4], pct)
    elif len(argv) >= 4 and argv[1] == "alone":
        cmd_alone(argv[2], argv[3:])
    elif len(argv) == 5 and argv[1] == "alone-table":
        cmd_alone_table(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "mps-totals":
        cmd_mps_totals(argv[2], argv[3:])
    elif len(argv) >= 5 and argv[1] == "chips":
        cmd_chips(argv[2], argv[3:])
    elif len(argv) >= 5 and argv[1] == "floor":
        cmd_floor(argv[2], argv[3], argv[4:])
    elif len(argv) == 6 and argv[1] == "random-templates":
        try:
            seed, n3, n4 = int(argv[3]), int(argv[4]), int(argv[5])
        except ValueError:
            die("random-templates: SEED N3 N4: expected whole numbers, got "
                "%s %s %s" % tuple(argv[3:6]))
        cmd_random_templates(argv[2], seed, n3, n4)
    elif len(argv) == 3 and argv[1] == "ab":
        cmd_ab(argv[2])
    elif len(argv) == 3 and argv[1] == "wake":
        cmd_wake(argv[2])
    else:
        die("usage: validate-matrix.py plans [--mps] [--calibration CSV] "
            "MEASURED OUTDIR [TEMPLATES] | "
            "calibrate OUT MEASURED [PLANS] [--calibration CSV] | table OUT "
            "| alone OUTDIR PLAN... | alone-table ALONE GREEN MPS "
            "| mps-totals SOLO PAIRS... | chips OUTCSV A B [A B]... "
            "| floor OUTCSV CHIPS DIR... | random-templates OUT SEED N3 N4 "

            "| ab DIR "
            "| wake OUT")


if __name__ == "__main__":
    main(sys.argv)
