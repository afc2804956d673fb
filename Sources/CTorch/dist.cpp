// c10d process groups: TCPStore rendezvous, Gloo and (with a CUDA libtorch) NCCL, blocking collectives.
#include "ctorch_dist.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "support.hpp"

#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

struct ct_process_group_opaque {
  c10::intrusive_ptr<c10d::Store> store;
#ifdef USE_C10D_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  int32_t rank = 0;
  int32_t world_size = 1;
  std::chrono::milliseconds timeout{0};
  bool native_reduce_scatter = false;

  /// Runs `call` on whichever backend the group holds and waits for its work to finish.
  template <class Call>
  void run(Call call) {
#ifdef USE_C10D_GLOO
    if (gloo) {
      call(*gloo)->wait(timeout);
      return;
    }
#endif
#ifdef USE_C10D_NCCL
    if (nccl) {
      call(*nccl)->wait(timeout);
      return;
    }
#endif
    throw std::runtime_error("the process group has no backend");
  }
};

namespace {

c10d::ReduceOp reduce_op(ct_reduce_op op) {
  switch (op) {
    case CT_REDUCE_SUM: return c10d::ReduceOp(c10d::ReduceOp::SUM);
    case CT_REDUCE_MAX: return c10d::ReduceOp(c10d::ReduceOp::MAX);
    case CT_REDUCE_MIN: return c10d::ReduceOp(c10d::ReduceOp::MIN);
    case CT_REDUCE_PRODUCT: return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
  }
  throw std::invalid_argument("unknown reduce op " + std::to_string(static_cast<int>(op)));
}

void require_contiguous(const at::Tensor &tensor, const char *what) {
  if (!tensor.is_contiguous()) throw std::invalid_argument(std::string(what) + " needs contiguous tensors");
}

}  // namespace

extern "C" {

bool ct_dist_backend_available(ct_backend backend) {
  switch (backend) {
    case CT_BACKEND_GLOO:
#ifdef USE_C10D_GLOO
      return true;
#else
      return false;
#endif
    case CT_BACKEND_NCCL:
#ifdef USE_C10D_NCCL
      return true;
#else
      return false;
#endif
  }
  return false;
}

ct_status ct_dist_init(ct_backend backend, const char *host, int32_t port, int32_t rank, int32_t world_size,
                       double timeout_seconds, ct_process_group *out) {
  CT_TRY({
    if (world_size < 1 || rank < 0 || rank >= world_size) {
      throw std::invalid_argument("rank " + std::to_string(rank) + " does not fit world size " +
                                  std::to_string(world_size));
    }
    if (port <= 0 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is invalid");
    auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    auto group = std::make_unique<ct_process_group_opaque>();
    group->store = c10::make_intrusive<c10d::TCPStore>(std::string(host), store_options);
    group->rank = rank;
    group->world_size = world_size;
    group->timeout = timeout;
    switch (backend) {
      case CT_BACKEND_GLOO: {
#ifdef USE_C10D_GLOO
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(std::string(host)));
        group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, rank, world_size, options);
        break;
#else
        throw std::runtime_error("this build has no Gloo backend (libtorch without USE_C10D_GLOO, or gloo headers missing)");
#endif
      }
      case CT_BACKEND_NCCL: {
#ifdef USE_C10D_NCCL
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = timeout;
        group->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, rank, world_size, options);
        group->native_reduce_scatter = true;
        break;
#else
        throw std::runtime_error("this build has no NCCL backend (build against a CUDA libtorch with TORCH_ROOT)");
#endif
      }
      default:
        throw std::invalid_argument("unknown backend " + std::to_string(static_cast<int>(backend)));
    }
    *out = group.release();
  })
}

void ct_dist_free(ct_process_group group) { delete group; }

int32_t ct_dist_rank(ct_process_group group) { return group->rank; }

int32_t ct_dist_world_size(ct_process_group group) { return group->world_size; }

ct_status ct_dist_all_reduce(ct_process_group group, const ct_tensor *tensors, int64_t count, ct_reduce_op op) {
  CT_TRY({
    std::vector<at::Tensor> list = ctorch::tensor_list(tensors, count);
    for (const auto &tensor : list) require_contiguous(tensor, "all_reduce");
    c10d::AllreduceOptions options;
    options.reduceOp = reduce_op(op);
    options.timeout = group->timeout;
    // One call per tensor: the process group reduces a vector as replicas of one tensor, not as a list.
    for (auto &tensor : list) {
      std::vector<at::Tensor> one{tensor};
      group->run([&](auto &backend) { return backend.allreduce(one, options); });
    }
  })
}

ct_status ct_dist_all_gather(ct_process_group group, ct_tensor input, ct_tensor *out) {
  CT_TRY({
    at::Tensor local = ctorch::unwrap(input).contiguous();
    std::vector<at::Tensor> parts;
    for (int32_t r = 0; r < group->world_size; ++r) parts.push_back(at::empty_like(local));
    std::vector<std::vector<at::Tensor>> outputs{parts};
    std::vector<at::Tensor> inputs{local};
    c10d::AllgatherOptions options;
    options.timeout = group->timeout;
    group->run([&](auto &backend) { return backend.allgather(outputs, inputs, options); });
    *out = ctorch::wrap(at::cat(outputs[0], 0));
  })
}

ct_status ct_dist_broadcast(ct_process_group group, const ct_tensor *tensors, int64_t count, int32_t root) {
  CT_TRY({
    if (root < 0 || root >= group->world_size) throw std::invalid_argument("broadcast root is not a rank");
    std::vector<at::Tensor> list = ctorch::tensor_list(tensors, count);
    for (const auto &tensor : list) require_contiguous(tensor, "broadcast");
    c10d::BroadcastOptions options;
    options.rootRank = root;
    options.rootTensor = 0;
    options.timeout = group->timeout;
    for (auto &tensor : list) {
      std::vector<at::Tensor> one{tensor};
      group->run([&](auto &backend) { return backend.broadcast(one, options); });
    }
  })
}

ct_status ct_dist_reduce_scatter(ct_process_group group, ct_tensor input, ct_reduce_op op, ct_tensor *out) {
  CT_TRY({
    at::Tensor whole = ctorch::unwrap(input).contiguous();
    int64_t world = group->world_size;
    if (whole.dim() == 0 || whole.size(0) % world != 0) {
      throw std::invalid_argument("reduce_scatter needs a first dimension divisible by the world size");
    }
    int64_t rows = whole.size(0) / world;
    if (group->native_reduce_scatter) {
      std::vector<at::Tensor> outputs{at::empty_like(whole.narrow(0, 0, rows))};
      std::vector<std::vector<at::Tensor>> inputs(1);
      for (int64_t r = 0; r < world; ++r) inputs[0].push_back(whole.narrow(0, r * rows, rows).contiguous());
      c10d::ReduceScatterOptions options;
      options.reduceOp = reduce_op(op);
      options.timeout = group->timeout;
      group->run([&](auto &backend) { return backend.reduce_scatter(outputs, inputs, options); });
      *out = ctorch::wrap(outputs[0]);
    } else {
      // Gloo has no reduce-scatter: one reduce per rank, each of that rank's slice to that rank, moves the same
      // volume as a ring reduce-scatter (an all-reduce would move twice as much).
      at::Tensor mine;
      for (int64_t r = 0; r < world; ++r) {
        std::vector<at::Tensor> one{whole.narrow(0, r * rows, rows).clone()};
        c10d::ReduceOptions options;
        options.reduceOp = reduce_op(op);
        options.rootRank = r;
        options.rootTensor = 0;
        options.timeout = group->timeout;
        group->run([&](auto &backend) { return backend.reduce(one, options); });
        if (r == group->rank) mine = one[0];
      }
      *out = ctorch::wrap(mine);
    }
  })
}

ct_status ct_dist_barrier(ct_process_group group) {
  CT_TRY({
    c10d::BarrierOptions options;
    options.timeout = group->timeout;
    group->run([&](auto &backend) { return backend.barrier(options); });
  })
}

int32_t ct_dist_end_with_parent(int32_t signal_number) {
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, signal_number);
#endif
  return static_cast<int32_t>(getppid());
}

}  // extern "C"
