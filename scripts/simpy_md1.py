#!/usr/bin/python3
"""The M/D/1 queue of `make bench`, in SimPy, for comparison with
`igniter sim` on the same queue (Poisson arrivals at 800 req/s, one server,
a constant 1 ms service, batch 1).

Debian 12 ships SimPy 2.3 (package python3-simpy, module `SimPy`), whose
classic process API this uses. Prints simulated requests per second of wall
time and the mean wait, to check both simulators simulate the same queue
(Pollaczek-Khinchine: 2 ms at utilisation 0.8).
Usage: /usr/bin/python3 scripts/simpy_md1.py [REQUESTS]
"""
import random
import sys
import time

from SimPy.Simulation import (Process, Resource, activate, hold, initialize,
                              now, release, request, simulate)

RATE = 0.8       # per ms
SERVICE = 1.0    # ms


class Stats:
    n = 0
    wait = 0.0


class Customer(Process):
    def run(self, server):
        t0 = now()
        yield request, self, server
        Stats.wait += now() - t0
        Stats.n += 1
        yield hold, self, SERVICE
        yield release, self, server


class Source(Process):
    def run(self, count, server, rng):
        for _ in range(count):
            c = Customer()
            activate(c, c.run(server))
            yield hold, self, rng.expovariate(RATE)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    rng = random.Random(1)
    initialize()
    server = Resource(capacity=1)
    src = Source()
    activate(src, src.run(count, server, rng))
    t0 = time.perf_counter()
    simulate(until=count / RATE * 2)
    wall = time.perf_counter() - t0
    print(f"simpy M/D/1: {Stats.n} requests in {wall:.2f} s wall: "
          f"{Stats.n / wall / 1e6:.3f} M req/s; mean wait {Stats.wait / Stats.n:.3f} ms "
          f"(theory 2.000)")


if __name__ == "__main__":
    main()
