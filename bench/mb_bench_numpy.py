#!/usr/bin/python3
# mb_bench_numpy.py -- the numpy side of bench/mb_bench_sql_records.c: the
# physical limit of summing one column of a record file.
#
#   mb_bench_numpy.py FILE.npy REPS
#
# Opens FILE.npy with np.load(mmap_mode='r') (an np.memmap of the records),
# sums the 'price' column REPS times and prints one line:
#   numpy <version> sum <value> ms <median ms> min <min ms>
# Needs Debian's python3-numpy (apt-get install -y python3-numpy).
import sys
import time

import numpy as np


def main():
    path, reps = sys.argv[1], int(sys.argv[2])
    arr = np.load(path, mmap_mode="r")
    times = []
    total = 0.0
    for _ in range(reps):
        t0 = time.perf_counter()
        total = float(arr["price"].sum())
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    print("numpy %s sum %.6f ms %.3f min %.3f"
          % (np.__version__, total, times[len(times) // 2], times[0]))


if __name__ == "__main__":
    main()
