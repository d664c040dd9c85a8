"""Timing shared by the bench/*_peers.py scripts: medians of SAMPLES runs of at least MIN_TIME s."""
import os
import statistics
import time

MIN_TIME = float(os.environ.get("RICCI_BENCH_MIN_TIME", "0.2"))
SAMPLES = int(os.environ.get("RICCI_BENCH_SAMPLES", "5"))


def time_us(body, batch=1):
    """(median, min, max) microseconds per step of body() (each call runs `batch` steps)."""
    for _ in range(3):
        body()
    samples = []
    for _ in range(SAMPLES):
        n, t0 = 0, time.perf_counter()
        while True:
            body()
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= MIN_TIME:
                break
        samples.append(elapsed / (n * batch) * 1e6)
    return statistics.median(samples), min(samples), max(samples)
