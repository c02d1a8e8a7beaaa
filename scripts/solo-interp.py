#!/usr/bin/env python3
"""scripts/solo-interp.py DATA POINTS [SMS] - how far the measured back end's
interpolation between measured batches is from a measurement of the point
itself (traces/h200/README.md, "The matrix's own points").

DATA is a measured-colocation.jsonl whose solo tables the simulator
interpolates (the measured back end: linearly in the share at each measured
batch, then linearly in the batch, as `igniter sim --backend measured-mean`
of the point alone gives). POINTS is one that `igniter derive` wrote from a
capture of the points themselves. For every model, batch and share of
POINTS that DATA did not measure (POINTS may hold DATA's points too: a
derive of both captures; at SMS, a comma list of SM counts of a
132-SM GPU, default all), prints measured, interpolated and the signed
error in %, then the mean absolute error per model and over all. Errors
name the file and exit 2."""
import bisect
import json
import sys


def die(msg):
    print("solo-interp: " + msg, file=sys.stderr)
    sys.exit(2)


def solo_tables(path):
    """{model: {batch: {share: ms}}} of a measured-colocation.jsonl."""
    out = {}
    try:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                try:
                    o = json.loads(line)
                except ValueError as e:
                    die("%s: line %d: %s" % (path, i, e))
                for m, v in o.items():
                    if isinstance(v, dict) and \
                            isinstance(v.get("latency"), dict):
                        out[m] = {int(b): {float(s): float(ms)
                                           for s, ms in row.items()}
                                  for b, row in v["latency"].items()}
    except OSError as e:
        die("%s: %s" % (path, e))
    if not out:
        die("%s: no solo latency table" % path)
    return out


def lerp(pts, x):
    xs = sorted(pts)
    i = bisect.bisect_left(xs, x - 1e-9)
    if i < len(xs) and abs(xs[i] - x) < 1e-9:
        return pts[xs[i]]
    if i == 0 or i == len(xs):
        return None   # outside: not an interpolation
    x0, x1 = xs[i - 1], xs[i]
    return pts[x0] + (pts[x1] - pts[x0]) * (x - x0) / (x1 - x0)


def interp(tab, batch, share):
    at = {b: lerp(row, share) for b, row in tab.items()}
    return lerp({b: v for b, v in at.items() if v is not None}, batch)


def main(argv):
    if len(argv) not in (3, 4):
        die("usage: solo-interp.py DATA POINTS [SMS]")
    data, pts = solo_tables(argv[1]), solo_tables(argv[2])
    want = None
    if len(argv) == 4:
        try:
            want = {int(x) for x in argv[3].split(",")}
        except ValueError:
            die("SMS: expected a comma list of SM counts, got %r" % argv[3])
    per, allv = {}, []
    print("model,sms,batch,measured_ms,interpolated_ms,error_pct")
    for m in sorted(pts):
        if m not in data:
            continue
        for b in sorted(pts[m]):
            for s, ms in sorted(pts[m][b].items()):
                sms = round(s * 132 / 100)
                if want and sms not in want:
                    continue
                if b in data[m] and any(abs(s - x) < 1e-9 for x in data[m][b]):
                    continue   # measured there too: no interpolation
                p = interp(data[m], b, s)
                if p is None:
                    continue
                e = 100.0 * (p - ms) / ms
                per.setdefault(m, []).append(e)
                allv.append(abs(e))
                print("%s,%d,%d,%.4f,%.4f,%+.2f" % (m, sms, b, ms, p, e))
    if not allv:
        die("%s: no point that %s interpolates" % (argv[2], argv[1]))
    for m, es in sorted(per.items()):
        print("# %s: %d points, mean |error| %.2f %%, signed %+.2f %%, "
              "max %.2f %%" % (m, len(es), sum(map(abs, es)) / len(es),
                               sum(es) / len(es), max(map(abs, es))))
    print("# all: %d points, mean |error| %.2f %%, max %.2f %%"
          % (len(allv), sum(allv) / len(allv), max(allv)))


if __name__ == "__main__":
    main(sys.argv)
