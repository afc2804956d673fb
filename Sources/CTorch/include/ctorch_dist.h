// Collective communication over libtorch's c10d: a TCPStore rendezvous and a Gloo (CPU) or NCCL (CUDA) process
// group, with the collectives data-parallel training needs. Same conventions as ctorch.h: a ct_status per call,
// ct_last_error() for the message, handles owned by the caller.
//
// Every collective is blocking: it returns when the result is in place, or fails when a peer is gone or the
// group's timeout passes, so a dead rank surfaces as an error on the others instead of a hang.
#ifndef CTORCH_DIST_H
#define CTORCH_DIST_H

#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_process_group_opaque *ct_process_group;

typedef enum { CT_BACKEND_GLOO = 0, CT_BACKEND_NCCL = 1 } ct_backend;
typedef enum { CT_REDUCE_SUM = 0, CT_REDUCE_MAX = 1, CT_REDUCE_MIN = 2, CT_REDUCE_PRODUCT = 3 } ct_reduce_op;

/// Whether this build of the shim and the linked libtorch provide `backend`.
bool ct_dist_backend_available(ct_backend backend);

/// Joins a group of `world_size` processes: rank 0 serves the TCPStore at host:port, the others connect to it.
/// `timeout_seconds` bounds the rendezvous and every later collective.
ct_status ct_dist_init(ct_backend backend, const char *host, int32_t port, int32_t rank, int32_t world_size,
                       double timeout_seconds, ct_process_group *out);
/// Releases the group (after a barrier where the caller wants one); NULL is a no-op.
void ct_dist_free(ct_process_group group);
int32_t ct_dist_rank(ct_process_group group);
int32_t ct_dist_world_size(ct_process_group group);

/// Reduces each tensor across ranks, in place (contiguous tensors; all ranks pass the same shapes in the same order).
ct_status ct_dist_all_reduce(ct_process_group group, const ct_tensor *tensors, int64_t count, ct_reduce_op op);
/// Concatenates every rank's `input` along dimension 0, in rank order; inputs must have the same shape.
ct_status ct_dist_all_gather(ct_process_group group, ct_tensor input, ct_tensor *out);
/// Copies `root`'s tensors into the other ranks' tensors, in place.
ct_status ct_dist_broadcast(ct_process_group group, const ct_tensor *tensors, int64_t count, int32_t root);
/// Reduces `input` (dimension 0 a multiple of the world size) across ranks and gives each rank its slice of the
/// result: rows [rank·n/W, (rank+1)·n/W). On Gloo, which has none, it is one reduce per rank to that rank.
ct_status ct_dist_reduce_scatter(ct_process_group group, ct_tensor input, ct_reduce_op op, ct_tensor *out);
/// Returns when every rank has reached the barrier.
ct_status ct_dist_barrier(ct_process_group group);

/// For ranks started by a local launcher: the kernel sends `signal_number` to this process when its parent dies
/// (Linux prctl PR_SET_PDEATHSIG; a no-op elsewhere). Returns the parent's process id at the time of the call.
int32_t ct_dist_end_with_parent(int32_t signal_number);

#ifdef __cplusplus
}
#endif

#endif
