#!/usr/bin/env python3
"""scripts/capture-power.py RAW... - can a capture's power readings make a
power model? (experiments/validation/policies/README.md, "What this
means".)

RAW are igniter-capture raw files (JSON lines). A power model for the
simulator would add up each instance's power above idle. This checks that
on the capture's own records. For every green pair (`coloc`, n 2) whose
members were both measured alone (`solo`, same model, SMs and batch),
the prediction is idle + (solo_a - idle) + (solo_b - idle), idle being
the mean of the `idle` records. It is compared with the power the pair
drew. Only pairs at the maximum clock count: a capped pair draws the cap,
whatever its demand.

Prints the pairs compared, the mean signed and absolute error (% of the
measured power), and the correlation between predicted and measured. It
also prints the median time a solo point ran (iters x mean_ms), to set
beside the readings' averaging. A file that cannot be read, or a record
without the fields used, is one message naming the file and line, exit
2."""
import json
import math
import statistics
import sys


def die(msg):
    print("capture-power: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) < 2:
        die("usage: capture-power.py RAW...")
    idle, solo, pairs, secs, fmax = [], {}, [], [], 0.0
    for path in sys.argv[1:]:
        try:
            f = open(path)
        except OSError as e:
            die("%s: %s" % (path, e.strerror))
        with f:
            for n, line in enumerate(f, 1):
                try:
                    r = json.loads(line)
                    k = r.get("kind")
                    if k == "meta":
                        fmax = max(fmax, float(r["max_clock_mhz"]))
                    elif k == "idle":
                        idle.append(float(r["power_w"]))
                    elif k == "solo" and r.get("mech", "green") == "green":
                        solo[(r["model"], int(r["sms"]), int(r["batch"]))] = \
                            float(r["power_w"])
                        secs.append(float(r["iters"]) * float(r["mean_ms"])
                                    / 1000)
                    elif (k == "coloc" and r.get("n") == 2 and
                          r.get("mech", "green") == "green"):
                        pairs.append((
                            [(m["model"], int(m["sms"]), int(m["batch"]))
                             for m in r["members"]],
                            float(r["power_w"]), float(r["clock_mhz"])))
                except (ValueError, KeyError, TypeError) as e:
                    die("%s:%d: expected a raw record with the fields of "
                        "its kind (%s: %s)" % (path, n, type(e).__name__, e))
    if not idle or not fmax:
        die("no idle or meta record in %s" % ", ".join(sys.argv[1:]))
    p0 = statistics.mean(idle)
    xs, ys = [], []
    for ms, pw, ck in pairs:
        if ck < fmax - 1 or not all(m in solo for m in ms):
            continue
        xs.append(p0 + sum(solo[m] - p0 for m in ms))
        ys.append(pw)
    if len(xs) < 2:
        die("fewer than 2 unthrottled pairs with both members measured alone")
    err = [(x - y) / y * 100 for x, y in zip(xs, ys)]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    corr = sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")
    print("idle %.1f W; %d unthrottled pairs (of %d) with both members alone"
          % (p0, len(xs), len(pairs)))
    print("solo sum against the pair's power: mean signed %+.1f %%, mean "
          "absolute %.1f %%, correlation %.2f" %
          (statistics.mean(err), statistics.mean(map(abs, err)), corr))
    print("a solo point ran %.2f s (median of %d)" %
          (statistics.median(secs), len(secs)))


if __name__ == "__main__":
    main()
