"""The timing loop every peer script shares: blocks of calls sized to take about 20 ms, the
median over 25 blocks of the time per call."""

import time


def median_ns(fn, blocks=25, target_s=0.02):
    fn()
    calls = 1
    while True:
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter_ns() - start
        if elapsed > target_s * 1e9 or calls > 1 << 22:
            break
        calls *= 2
    samples = []
    for _ in range(blocks):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls)
    samples.sort()
    return samples[len(samples) // 2]
