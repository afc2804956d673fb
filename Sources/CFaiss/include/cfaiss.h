// A flat C API over FAISS, the vector index behind `BriVLSearch`.
//
// Conventions (the same as ctorch.h):
// - Every function that can fail returns a cf_status: 0 on success, non-zero on failure, in which case
//   cf_last_error() returns FAISS's message for the calling thread. Nothing here aborts or prints.
// - A cf_index is an opaque handle the caller owns and releases with cf_index_free. Array arguments are borrowed
//   for the duration of the call only; output arrays are allocated by the caller.
// - Every index measures similarity by inner product (embeddings are L2-normalised, so it is their cosine).
// - No logic lives here beyond calling FAISS: composition belongs to the Swift side.
#ifndef CFAISS_H
#define CFAISS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cf_index_opaque *cf_index;
typedef int32_t cf_status;

/// The message of the calling thread's last failure ("" when none).
const char *cf_last_error(void);

/// A new, empty index from a FAISS factory description ("IDMap,Flat", "IVF1024,Flat", "IDMap,HNSW32,Flat").
cf_status cf_index_factory(cf_index *out, int32_t dimension, const char *description);
void cf_index_free(cf_index index);

int32_t cf_index_dimension(cf_index index);
int64_t cf_index_count(cf_index index);
bool cf_index_is_trained(cf_index index);

/// Trains the index's quantiser (IVF) on `count` row-major vectors; a no-op for indexes that need no training.
cf_status cf_index_train(cf_index index, int64_t count, const float *vectors);
/// Adds `count` row-major vectors under the caller's 64-bit ids.
cf_status cf_index_add_with_ids(cf_index index, int64_t count, const float *vectors, const int64_t *ids);
/// Removes the vectors with these ids; `removed` receives how many were found. Fails for index kinds that cannot
/// remove (HNSW graphs).
cf_status cf_index_remove_ids(cf_index index, int64_t count, const int64_t *ids, int64_t *removed);
/// The `k` best matches of each of `count` queries: `scores` and `ids` hold count·k values, best first. Missing
/// results (fewer than k vectors) have id -1.
cf_status cf_index_search(
    cf_index index, int64_t count, const float *queries, int64_t k, float *scores, int64_t *ids);

/// Sets a parameter of the wrapped index: "efSearch" or "efConstruction" (HNSW), "nprobe" (IVF).
cf_status cf_index_set_parameter(cf_index index, const char *name, int64_t value);

/// Writes the index to a file (FAISS's own format).
cf_status cf_index_write(cf_index index, const char *path);
/// Reads an index written by cf_index_write.
cf_status cf_index_read(cf_index *out, const char *path);

/// Threads FAISS's OpenMP loops may use.
void cf_set_num_threads(int32_t count);

#ifdef __cplusplus
}
#endif

#endif
