#!/usr/bin/env python3
"""Before/after the server's self-observation fix, interleaved: for each of PAIRS rounds and
each SCENARIO, `membench run SCENARIO --duration 10s` with BEFORE then AFTER (the order
alternates each round so drift does not favour one binary). For each run, from its
samples.csv (phase `load`): the median and IQR of the per-interval CPU µs/request, and the
Pearson and Spearman correlations between the interval's RPS and its CPU µs/request (a
fixed per-second cost spread over fewer requests makes them negative). Prints one line per
run and a median-of-runs line per binary and scenario.

usage: selfcost-compare.py BEFORE AFTER OUTDIR PAIRS SCENARIO...
"""
import csv
import os
import statistics
import subprocess
import sys


def quartiles(xs):
    q = statistics.quantiles(xs, n=4)
    return q[0], statistics.median(xs), q[2]


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    for rank, i in enumerate(order):
        r[i] = float(rank)
    return r


def run(binary, scenario, out):
    subprocess.run([binary, "run", scenario, "--duration", "10s", "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rps, cpu = [], []
    with open(os.path.join(out, "samples.csv")) as f:
        for row in csv.DictReader(f):
            if row["phase"] == "load" and row["cpu_us_per_request"] and int(row["requests"]) > 0:
                rps.append(float(row["rps"]))
                cpu.append(float(row["cpu_us_per_request"]))
    q1, med, q3 = quartiles(cpu)
    return {
        "median": med, "q1": q1, "q3": q3,
        "rps": statistics.median(rps),
        "pearson": statistics.correlation(rps, cpu),
        "spearman": statistics.correlation(ranks(rps), ranks(cpu)),
        "intervals": len(cpu),
    }


def main():
    before, after, outdir, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    scenarios = sys.argv[5:]
    results = {}
    for pair in range(pairs):
        for scenario in scenarios:
            order = [("before", before), ("after", after)]
            if pair % 2:
                order.reverse()
            for label, binary in order:
                out = os.path.join(outdir, f"{scenario}-{label}-{pair}")
                r = run(binary, scenario, out)
                results.setdefault((scenario, label), []).append(r)
                print(f"{scenario:10} {label:6} pair {pair}: cpu µs/req median {r['median']:.2f} "
                      f"IQR {r['q1']:.2f}–{r['q3']:.2f} · RPS median {r['rps']:.0f} · "
                      f"r(RPS, µs/req) pearson {r['pearson']:+.2f} spearman {r['spearman']:+.2f} "
                      f"({r['intervals']} intervals)", flush=True)
    print()
    for (scenario, label), rs in sorted(results.items()):
        med = lambda key: statistics.median(r[key] for r in rs)
        print(f"{scenario:10} {label:6} over {len(rs)} runs: median of medians {med('median'):.2f} "
              f"µs/req (median IQR {med('q1'):.2f}–{med('q3'):.2f}) · RPS {med('rps'):.0f} · "
              f"pearson {med('pearson'):+.2f} · spearman {med('spearman'):+.2f}")


if __name__ == "__main__":
    main()
