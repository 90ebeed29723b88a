#!/usr/bin/env python3
"""A simulation of one hot pool split into k shards with escrow (ARCHITECTURE.md, "Scale").

Each shard is a serialised writer taking at most RATE requests/s from its own quota of
the pool; requests arrive at OFFERED/s, routed to shards by customer hash, unevenly
(weights k, k-1, ..., 1: shards drain at different speeds, so quotas must move). A shard whose
quota falls below a low-water mark asks the rebalancer, which moves half of the richest
shard's free quota to it: `transfer_out` on the donor, then, TRANSFER_MS later,
`transfer_in` on the receiver (units in flight belong to nobody). Checks: never more
than the capacity promised; every refusal happens while the shard (and the rebalancer)
had nothing to give. Prints the aggregate rate for k = 1, 2, 4.

Usage: python3 bench/escrow_sim.py [--rate 100000] [--capacity 2000000]
"""
import argparse
import random


def simulate(k, rate, offered, capacity, transfer_ms=2.0, low_water_ms=100, seed=1):
    rnd = random.Random(seed)
    quota = [capacity // k + (1 if i < capacity % k else 0) for i in range(k)]
    sold = [0] * k
    in_flight = []  # (arrival_ms, receiver, units)
    rebalances = 0
    refused_with_units_left = 0
    t = 0.0
    step = 1.0  # ms
    per_step_capacity = rate / 1000 * step  # what one writer can do per ms
    per_step_offered = offered / 1000 * step
    while True:
        # Transfers arriving.
        for tr in [x for x in in_flight if x[0] <= t]:
            quota[tr[1]] += tr[2]
            in_flight.remove(tr)
        free = [quota[i] - sold[i] for i in range(k)]
        if sum(free) == 0 and not in_flight:
            break
        # Arrivals this ms, split by customer hash (random, as hashes are).
        arrivals = [0] * k
        # Skewed routing (a few heavy customers hash together): shards drain unevenly.
        weights = [k - i for i in range(k)]
        for _ in range(int(per_step_offered)):
            arrivals[rnd.choices(range(k), weights)[0]] += 1
        for i in range(k):
            served = min(arrivals[i], int(per_step_capacity))
            take = min(served, quota[i] - sold[i])
            sold[i] += take
            if take < served and (sum(quota[j] - sold[j] for j in range(k)) > 0):
                refused_with_units_left += served - take
        # Rebalance: a shard below its low-water mark asks for half of the richest's free quota.
        low_water = rate / 1000 * low_water_ms
        for i in range(k):
            if quota[i] - sold[i] < low_water and not any(x[1] == i for x in in_flight):
                donor = max(range(k), key=lambda j: quota[j] - sold[j])
                give = (quota[donor] - sold[donor]) // 2
                if donor != i and give > low_water:
                    quota[donor] -= give  # transfer_out, journaled on the donor
                    in_flight.append((t + transfer_ms, i, give))
                    rebalances += 1
        assert sum(sold) <= capacity, "oversold"
        t += step
    assert sum(sold) == capacity
    return dict(shards=k, seconds=t / 1000, rate=capacity / (t / 1000), rebalances=rebalances,
                refused_while_units_in_flight=refused_with_units_left)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=100_000, help="one writer's rate (measured: ~100k/s)")
    ap.add_argument("--capacity", type=int, default=2_000_000)
    a = ap.parse_args()
    offered = a.rate * 8  # the rush: far more than one writer takes
    base = None
    for k in (1, 2, 4):
        r = simulate(k, a.rate, offered, a.capacity)
        base = base or r["rate"]
        print(f"{k} shard(s): {r['rate']:,.0f} promises/s ({r['rate'] / base:.2f}x), "
              f"{r['rebalances']} rebalances, sold out after {r['seconds']:.1f} s, "
              f"{r['refused_while_units_in_flight']:,} requests refused while units were in flight")


if __name__ == "__main__":
    main()
