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

#include "moe-mlir/Runner/Check.h"
#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/Operands.h"

#include "moe-runtime/MoERuntime.h"

#include <string>
#include <vector>

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

/// The timed calls of a layer: each call's time, and the exchanges of the
/// last one with each call's time in them.
struct TimedCalls {
  Timing timing;
  moe_rt_layer_stats exchanges{};
  std::vector<double> exchangeSeconds;
};

/// A runner's place among the ranks of a layer compiled for R of them: the
/// runtime's layer communicator, released (MPI finalised) on destruction.
class RankGroup {
public:
  RankGroup() = default;
  RankGroup(const RankGroup &) = delete;
  RankGroup &operator=(const RankGroup &) = delete;
  ~RankGroup();

  /// Joins the layer communicator, which must have `ranks` ranks; returns
  /// an empty string or why not, saying how to start `command` instead.
  /// With `ranks` = 1 there is nothing to join.
  std::string join(int ranks, const std::string &command);
  bool joined() const { return comm != nullptr; }
  /// Rank 0 gathers, checks and reports.
  bool reports() const { return rank == 0; }
  int rankIndex() const { return rank; }
  /// `message` naming this rank when there are several ("rank R: ...").
  std::string fromThisRank(const std::string &message) const;
  moe_rt_comm *communicator() const { return comm; }

  /// Rank 0's seed on every rank (each drew its own when none was given).
  std::string shareSeed(uint64_t &seed) const;

  /// The failure of the layer's exchanges since the last take, as a
  /// message naming this rank; empty when there was none.
  std::string exchangeError() const;

  /// The checked call: `layer` on every argument in `args` when not joined;
  /// otherwise on this rank's share of them, which `shard` keeps (the layer
  /// reads its arguments in place on later calls), with every rank's
  /// outputs gathered on rank 0.
  std::string callChecked(LayerCall &layer, const std::vector<Input> &args,
                          const std::vector<Role> &roles, int64_t numExperts,
                          int64_t modelSize, std::vector<Input> &shard,
                          LayerOutputs &outputs) const;

  /// `runs` more calls of `layer` on the arguments of the checked call,
  /// each timed, with the time in the layer's exchanges.
  std::string timeCalls(LayerCall &layer, int runs, TimedCalls &timed) const;

  /// Rank 0's verdict on every rank, so that every process exits with it
  /// (a collective when joined, nothing otherwise).
  std::string shareVerdict(int64_t &verdict) const;

private:
  /// Calls `layer` on this rank's share `shard` and gathers every rank's
  /// outputs ([T, D]) on rank 0 into `outputs`.
  std::string callSharded(LayerCall &layer, const std::vector<Input> &shard,
                          int64_t modelSize, LayerOutputs &outputs) const;

  moe_rt_comm *comm = nullptr;
  int rank = 0, size = 1;
};

/// "  exchanges (rank 0): N per call, X MB sent and Y MB received; median
/// Z ms per call in them": the last timed call's exchanges and the median
/// of each call's time in them.
std::string formatExchanges(const TimedCalls &timed);

} // namespace moe::run

#endif // MOE_MLIR_RUNNER_EXPERTPARALLEL_H
