//===- ExpertParallel.h - A layer's inputs and output over R ranks -*- C++
//-*-===//
//
// How a runner runs an expert-parallel layer (moe-expert-parallel) as one
// of R processes: each rank takes a contiguous share of the tokens and the
// weights of its E/R experts; the outputs are gathered on rank 0 in token
// order, where they are checked against the single-rank reference.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_MLIR_RUNNER_EXPERTPARALLEL_H
#define MOE_MLIR_RUNNER_EXPERTPARALLEL_H

#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/Operands.h"

#include <string>
#include <vector>

struct moe_rt_comm;

namespace moe::run {

/// Rank `rank`'s tokens among T: rows [begin, end), the first T mod R ranks
/// one more than the others.
struct TokenShare {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
TokenShare tokenShare(int64_t tokens, int rank, int ranks);

/// Whether a role is sharded by expert (the routed experts' weights and
/// biases); the router and the shared experts are replicated.
bool isShardedByExpert(Role role);

/// The arguments of rank `rank`: its share of the tokens, the weights of
/// experts [rank * E/R, (rank + 1) * E/R), every other argument whole.
/// Returns an empty string or why not (E not a multiple of R).
std::string shardInputs(const std::vector<Input> &args,
                        const std::vector<Role> &roles, int64_t numExperts,
                        int rank, int ranks, std::vector<Input> &shard);

/// Gathers every rank's outputs ([T_r, D] rows, dropped counts summed) on
/// rank 0 of `comm`, in rank order; a collective. Returns an empty string
/// or the runtime's message.
std::string gatherOutputs(moe_rt_comm *comm, const LayerOutputs &local,
                          int64_t modelSize, LayerOutputs &gathered);

/// Rank 0's `value` on every rank (a collective); an empty string or why
/// not.
std::string broadcastFromRankZero(moe_rt_comm *comm, int64_t &value);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_EXPERTPARALLEL_H
