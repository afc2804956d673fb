#!/usr/bin/env python3
"""The peer of `brivl bench search`: the same FAISS index files and queries, searched through FAISS's Python binding.

Each --run KEY=INDEX_FILE:PARAMETER:VALUE reads an index written by the Swift side, applies the search parameter
(efSearch, nprobe, or none), times one query per call (as a server answers) and measures recall@k against the
exact answers of the run whose key starts with "flat". Prints one JSON line per run. Needs NumPy and FAISS
(Debian: python3-numpy python3-faiss).
"""
import argparse
import json
import time

import faiss
import numpy as np


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", required=True, help="raw float32 query vectors, row-major")
    parser.add_argument("--dimension", type=int, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--exact-timed", type=int, default=200, help="queries timed on the exact index")
    parser.add_argument("--run", action="append", default=[], help="KEY=INDEX_FILE:PARAMETER:VALUE")
    arguments = parser.parse_args()

    faiss.omp_set_num_threads(arguments.threads)
    queries = np.fromfile(arguments.queries, dtype=np.float32).reshape(-1, arguments.dimension)
    runs = []
    for spec in arguments.run:
        key, rest = spec.split("=", 1)
        path, parameter, value = rest.rsplit(":", 2)
        runs.append((key, path, parameter, int(value)))

    truth = None
    loaded = {}
    for key, path, parameter, value in runs:
        if path not in loaded:
            loaded[path] = faiss.read_index(path)
        index = loaded[path]
        if truth is None:
            if not key.startswith("flat"):
                raise SystemExit("the first run must be the exact (flat) index")
            _, truth = index.search(queries, arguments.k)
        if parameter != "none":
            faiss.ParameterSpace().set_index_parameter(index, parameter, value)
        timed = arguments.exact_timed if key.startswith("flat") else len(queries)
        latencies = []
        found = np.empty((len(queries), arguments.k), dtype=np.int64)
        for row in range(len(queries)):
            query = queries[row : row + 1]
            start = time.perf_counter_ns()
            _, ids = index.search(query, arguments.k)
            if row < timed:
                latencies.append((time.perf_counter_ns() - start) / 1e6)
            found[row] = ids[0]
        hits = sum(len(set(found[row]) & set(truth[row])) for row in range(len(queries)))
        print(
            json.dumps(
                {
                    "key": key,
                    "p50_ms": percentile(latencies, 0.5),
                    "p99_ms": percentile(latencies, 0.99),
                    "recall_at_10": hits / truth.size,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
