// The FAISS side of cfaiss.h: every entry point turns C++ exceptions into a status and a thread-local message.
#include "cfaiss.h"

#include <faiss/AutoTune.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <exception>
#include <stdexcept>
#include <memory>
#include <string>

struct cf_index_opaque {
  std::unique_ptr<faiss::Index> index;
};

namespace {

thread_local std::string last_error;

template <typename Body>
cf_status guarded(Body body) {
  try {
    body();
    last_error.clear();
    return 0;
  } catch (const std::exception &error) {
    last_error = error.what();
  } catch (...) {
    last_error = "unknown FAISS exception";
  }
  return 1;
}

}  // namespace

// The OpenMP runtime FAISS is built with (declared here rather than through <omp.h>, which only GCC ships on
// Debian while this file is compiled by the Swift toolchain's clang).
extern "C" void omp_set_num_threads(int count);

extern "C" {

const char *cf_last_error(void) { return last_error.c_str(); }

cf_status cf_index_factory(cf_index *out, int32_t dimension, const char *description) {
  return guarded([&] {
    std::unique_ptr<faiss::Index> index(faiss::index_factory(dimension, description, faiss::METRIC_INNER_PRODUCT));
    *out = new cf_index_opaque{std::move(index)};
  });
}

void cf_index_free(cf_index index) { delete index; }

int32_t cf_index_dimension(cf_index index) { return static_cast<int32_t>(index->index->d); }

int64_t cf_index_count(cf_index index) { return index->index->ntotal; }

bool cf_index_is_trained(cf_index index) { return index->index->is_trained; }

cf_status cf_index_train(cf_index index, int64_t count, const float *vectors) {
  return guarded([&] {
    if (!index->index->is_trained) index->index->train(count, vectors);
  });
}

cf_status cf_index_add_with_ids(cf_index index, int64_t count, const float *vectors, const int64_t *ids) {
  return guarded([&] { index->index->add_with_ids(count, vectors, ids); });
}

cf_status cf_index_remove_ids(cf_index index, int64_t count, const int64_t *ids, int64_t *removed) {
  return guarded([&] {
    faiss::IDSelectorBatch selector(count, ids);
    *removed = static_cast<int64_t>(index->index->remove_ids(selector));
  });
}

cf_status cf_index_search(
    cf_index index, int64_t count, const float *queries, int64_t k, float *scores, int64_t *ids) {
  return guarded([&] { index->index->search(count, queries, k, scores, ids); });
}

cf_status cf_index_set_parameter(cf_index index, const char *name, int64_t value) {
  // ParameterSpace looks through id maps and knows which parameter belongs to which index kind.
  return guarded([&] { faiss::ParameterSpace().set_index_parameter(index->index.get(), name, static_cast<double>(value)); });
}

cf_status cf_index_write(cf_index index, const char *path) {
  return guarded([&] { faiss::write_index(index->index.get(), path); });
}

cf_status cf_index_read(cf_index *out, const char *path) {
  return guarded([&] {
    std::unique_ptr<faiss::Index> index(faiss::read_index(path));
    *out = new cf_index_opaque{std::move(index)};
  });
}

void cf_set_num_threads(int32_t count) { omp_set_num_threads(count); }

}  // extern "C"
