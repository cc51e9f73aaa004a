//===- ExpertParallel.cpp - A layer's inputs and output over R ranks ------===//

#include "moe-mlir/Runner/ExpertParallel.h"

#include "moe-runtime/MoERuntime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace moe::run {

TokenShare tokenShare(int64_t tokens, int rank, int ranks) {
  int64_t base = tokens / ranks, extra = tokens % ranks;
  TokenShare share;
  share.begin = rank * base + std::min<int64_t>(rank, extra);
  share.end = share.begin + base + (rank < extra ? 1 : 0);
  return share;
}

bool isShardedByExpert(Role role) {
  switch (role) {
  case Role::Gate:
  case Role::GateBias:
  case Role::Up:
  case Role::UpBias:
  case Role::Down:
  case Role::DownBias:
    return true;
  default:
    return false;
  }
}

namespace {
/// Rows [begin, end) of `input` along its leading dimension.
Input leadingSlice(const Input &input, int64_t begin, int64_t end) {
  Input slice;
  slice.element = input.element;
  slice.shape = input.shape;
  slice.shape[0] = end - begin;
  int64_t row = 1;
  for (size_t i = 1; i < input.shape.size(); ++i)
    row *= input.shape[i];
  slice.data.assign(input.data.begin() + begin * row,
                    input.data.begin() + end * row);
  if (!input.narrow.empty())
    slice.narrow.assign(input.narrow.begin() + begin * row,
                        input.narrow.begin() + end * row);
  return slice;
}

std::string runtimeError(const char *what) {
  return std::string(what) + ": " + moe_rt_last_error();
}
} // namespace

std::string shardInputs(const std::vector<Input> &args,
                        const std::vector<Role> &roles, int64_t numExperts,
                        int rank, int ranks, std::vector<Input> &shard) {
  if (ranks < 1 || numExperts % ranks != 0)
    return "the layer's " + std::to_string(numExperts) +
           " experts cannot be spread over " + std::to_string(ranks) + " ranks";
  shard.clear();
  int64_t local = numExperts / ranks;
  for (size_t i = 0; i < args.size(); ++i) {
    const Input &arg = args[i];
    Role role = i < roles.size() ? roles[i] : Role::Tokens;
    if (role == Role::Tokens) {
      TokenShare tokens = tokenShare(arg.shape[0], rank, ranks);
      shard.push_back(leadingSlice(arg, tokens.begin, tokens.end));
    } else if (isShardedByExpert(role)) {
      shard.push_back(leadingSlice(arg, rank * local, (rank + 1) * local));
    } else {
      shard.push_back(arg);
    }
  }
  return "";
}

std::string gatherOutputs(moe_rt_comm *comm, const LayerOutputs &local,
                          int64_t modelSize, LayerOutputs &gathered) {
  int rank = 0, ranks = 1;
  moe_rt_comm_rank(comm, &rank);
  moe_rt_comm_size(comm, &ranks);
  // Every rank sends its rows to rank 0, and its dropped count in a second
  // exchange of one-element rows.
  std::vector<int64_t> sendCounts(size_t(ranks), 0);
  std::vector<int64_t> recvCounts(size_t(ranks), 0);
  sendCounts[0] = int64_t(local.output.size()) / modelSize;
  if (moe_rt_exchange_counts(comm, sendCounts.data(), recvCounts.data()))
    return runtimeError("gathering the outputs");
  int64_t rows = 0;
  for (int64_t count : recvCounts)
    rows += count;
  gathered = LayerOutputs();
  gathered.output.resize(size_t(rows * modelSize));
  if (moe_rt_all_to_all_rows(comm, local.output.data(), sendCounts[0],
                             sendCounts.data(), gathered.output.data(), rows,
                             recvCounts.data(),
                             modelSize * int64_t(sizeof(float))))
    return runtimeError("gathering the outputs");

  std::vector<int64_t> dropped(size_t(ranks), 0);
  std::vector<int64_t> all(size_t(ranks), 0);
  dropped[0] = local.dropped.value_or(0);
  if (moe_rt_exchange_counts(comm, dropped.data(), all.data()))
    return runtimeError("gathering the dropped counts");
  if (local.dropped) {
    int64_t total = 0;
    for (int64_t count : all)
      total += rank == 0 ? count : 0;
    gathered.dropped = total;
  }
  return "";
}

std::string broadcastFromRankZero(moe_rt_comm *comm, int64_t &value) {
  int ranks = 1;
  moe_rt_comm_size(comm, &ranks);
  std::vector<int64_t> send(size_t(ranks), value);
  std::vector<int64_t> recv(size_t(ranks), 0);
  if (moe_rt_exchange_counts(comm, send.data(), recv.data()))
    return runtimeError("sharing rank 0's verdict");
  value = recv[0];
  return "";
}

RankGroup::~RankGroup() {
  if (comm)
    moe_rt_layer_comm_release();
}

std::string RankGroup::join(int ranks, const std::string &command) {
  if (ranks == 1)
    return "";
  if (moe_rt_layer_comm(&comm)) {
    comm = nullptr;
    return std::string("the layer spreads its experts over ") +
           std::to_string(ranks) + " ranks: " + moe_rt_last_error();
  }
  moe_rt_comm_size(comm, &size);
  moe_rt_comm_rank(comm, &rank);
  if (size == ranks)
    return "";
  return "the layer spreads its experts over " + std::to_string(ranks) +
         " ranks, and this process is " +
         (size == 1 ? std::string("alone")
                    : "one of " + std::to_string(size) + " ranks") +
         "; start it as mpirun -np " + std::to_string(ranks) + " " + command;
}

std::string RankGroup::shareSeed(uint64_t &seed) const {
  if (!comm)
    return "";
  // Counts are non-negative int64s: the seed travels as two 32-bit halves.
  int64_t high = int64_t(seed >> 32), low = int64_t(seed & 0xffffffffu);
  if (std::string error = broadcastFromRankZero(comm, high); !error.empty())
    return error;
  if (std::string error = broadcastFromRankZero(comm, low); !error.empty())
    return error;
  seed = (uint64_t(high) << 32) | uint64_t(low);
  return "";
}

std::string RankGroup::fromThisRank(const std::string &message) const {
  return comm ? "rank " + std::to_string(rank) + ": " + message : message;
}

std::string RankGroup::exchangeError() const {
  if (!comm || moe_rt_layer_take_error() == MOE_RT_OK)
    return "";
  return fromThisRank(std::string("an exchange of the layer failed: ") +
                      moe_rt_last_error());
}

std::string RankGroup::callSharded(LayerCall &layer,
                                   const std::vector<Input> &shard,
                                   int64_t modelSize,
                                   LayerOutputs &outputs) const {
  LayerOutputs local;
  if (std::string error = layer.call(shard, local); !error.empty())
    return error;
  if (std::string error = exchangeError(); !error.empty())
    return error;
  return gatherOutputs(comm, local, modelSize, outputs);
}

std::string RankGroup::callChecked(LayerCall &layer,
                                   const std::vector<Input> &args,
                                   const std::vector<Role> &roles,
                                   int64_t numExperts, int64_t modelSize,
                                   std::vector<Input> &shard,
                                   LayerOutputs &outputs) const {
  if (!comm)
    return layer.call(args, outputs);
  if (std::string error =
          shardInputs(args, roles, numExperts, rank, size, shard);
      !error.empty())
    return error;
  return callSharded(layer, shard, modelSize, outputs);
}

std::string RankGroup::timeCalls(LayerCall &layer, int runs,
                                 TimedCalls &timed) const {
  for (int i = 0; i < runs; ++i) {
    moe_rt_layer_stats_reset();
    auto start = std::chrono::steady_clock::now();
    if (std::string error = layer.callDiscarding(); !error.empty())
      return error;
    if (std::string error = exchangeError(); !error.empty())
      return error;
    timed.timing.seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
    moe_rt_layer_stats_get(&timed.exchanges);
    timed.exchangeSeconds.push_back(timed.exchanges.seconds);
  }
  return "";
}

std::string RankGroup::shareVerdict(int64_t &verdict) const {
  if (!comm)
    return "";
  // Rank 0's report must be out before another rank's exit can end the job.
  std::fflush(stdout);
  return broadcastFromRankZero(comm, verdict);
}

std::string formatExchanges(const TimedCalls &timed) {
  const moe_rt_layer_stats &last = timed.exchanges;
  std::vector<double> seconds = timed.exchangeSeconds;
  std::sort(seconds.begin(), seconds.end());
  double median = seconds.empty() ? 0.0 : seconds[seconds.size() / 2];
  char line[256];
  std::snprintf(line, sizeof(line),
                "  exchanges (rank 0): %lld per call, %.3f MB sent and %.3f MB "
                "received; median %.3f ms per call in them\n",
                (long long)last.exchanges, double(last.bytes_sent) / 1e6,
                double(last.bytes_received) / 1e6, median * 1e3);
  return line;
}

} // namespace moe::run
