//===- RunnerTest.cpp - The runners' plain C++ parts ----------------------===//
//
// The layer description that moe-compile writes into a library and moe-exec
// reads back, and the packed call that both runners make.
//
//===----------------------------------------------------------------------===//

#include "moe-mlir/Runner/Check.h"
#include "moe-mlir/Runner/ExpertParallel.h"
#include "moe-mlir/Runner/LayerCall.h"
#include "moe-mlir/Runner/LayerDescription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace moe;

namespace {
/// A description that sets every field away from its default.
run::LayerDescription everyField() {
  run::LayerDescription d;
  d.function = "deepseek_like";
  d.target = "gpu";
  d.chip = "sm_90a";
  d.pipeline = "moe-gpu-pipeline{chip=sm_90a format=fatbin}";
  d.staticTokens = 17;
  d.ranks = 4;
  ref::LayerConfig &c = d.config;
  c.D = 64;
  c.F = 32;
  c.E = 16;
  c.sharedF = 48;
  c.element = ref::ElementType::BF16;
  c.router.scoring = ref::Scoring::Sigmoid;
  c.router.order = ref::ScoreOrder::TopKSoftmax;
  c.router.k = 4;
  c.router.renormalize = true;
  c.router.scale = 2.5 + 1e-13; // every digit must survive
  c.router.groups = 4;
  c.router.topkGroups = 2;
  c.router.groupScore = ref::GroupScore::SumTop2;
  c.router.weightsOnInput = true;
  c.router.expertChoice = true;
  c.capacity.kind = ref::CapacityKind::Factor;
  c.capacity.capacity = 9;
  c.capacity.factor = 1.25;
  c.capacity.droppedIdentity = true;
  c.capacity.dropByProbability = true;
  c.activation = ref::Activation::ClampedSwiGLU;
  c.alpha = 1.5;
  c.limit = 6.0;
  d.roles = {run::Role::Tokens,
             run::Role::Router,
             run::Role::SelectionBias,
             run::Role::Gate,
             run::Role::Up,
             run::Role::Down,
             run::Role::SharedSigmoidGate};
  d.elements.assign(d.roles.size(), ref::ElementType::BF16);
  d.hasDropped = true;
  d.hasStatistics = true;
  d.flops = {123456789012, 98765};
  d.packedWeights = {
      {3, {16, 4, 32, 128}, ref::ElementType::BF16, "f_pack_arg3"},
      {5, {16, 2, 64, 64}, ref::ElementType::F32, "f_pack_arg5"}};
  return d;
}
} // namespace

TEST(LayerDescription, RoundTripsEveryField) {
  run::LayerDescription original = everyField();
  std::string text = run::printDescription(original);
  run::LayerDescription parsed;
  ASSERT_EQ(run::parseDescription(text, parsed), "") << text;
  EXPECT_EQ(run::printDescription(parsed), text);
  EXPECT_EQ(parsed.config.router.scale, original.config.router.scale);
  EXPECT_EQ(parsed.roles, original.roles);
  EXPECT_EQ(parsed.flops.perToken, original.flops.perToken);
  EXPECT_EQ(parsed.staticTokens, 17);
  EXPECT_EQ(parsed.ranks, 4);
  ASSERT_EQ(parsed.packedWeights.size(), 2u);
  EXPECT_EQ(parsed.packedWeights[0].argument, 3u);
  EXPECT_EQ(parsed.packedWeights[0].shape,
            (std::vector<int64_t>{16, 4, 32, 128}));
  EXPECT_EQ(parsed.packedWeights[0].element, ref::ElementType::BF16);
  EXPECT_EQ(parsed.packedWeights[1].function, "f_pack_arg5");
  EXPECT_FALSE(parsed.hasRouterBias());
  EXPECT_EQ(parsed.results().ranks(), (std::vector<int64_t>{2, 0, 1, 0, 0}));
}

TEST(LayerDescription, RejectsWhatIsNotOne) {
  std::string text = run::printDescription(everyField());
  auto errorOf = [](const std::string &candidate) {
    run::LayerDescription d;
    return run::parseDescription(candidate, d);
  };
  EXPECT_NE(errorOf("").find("not a layer description"), std::string::npos);
  EXPECT_EQ(errorOf(text + "colour blue\n"), "line 37: unknown key 'colour'");
  EXPECT_EQ(errorOf(text + "D 64\n"), "line 37: 'D' given twice");
  std::string badPacked = text;
  badPacked.replace(badPacked.find("16x4x32x128"), 11, "16x0x32x128");
  EXPECT_NE(errorOf(badPacked).find("for 'packed_weights'"), std::string::npos);
  std::string packedPastTheEnd = text;
  packedPastTheEnd.replace(packedPastTheEnd.find("5:f32"), 5, "9:f32");
  EXPECT_EQ(errorOf(packedPastTheEnd),
            "'packed_weights' names argument 9 of 7");
  std::string badK = text;
  badK.replace(badK.find("router.k 4"), 10, "router.k x");
  EXPECT_NE(errorOf(badK).find("bad value 'x' for 'router.k'"),
            std::string::npos);
  std::string badRole = text;
  badRole.replace(badRole.find("up:bf16"), 7, "wing:bf16");
  EXPECT_NE(errorOf(badRole).find("for 'arguments'"), std::string::npos);
  std::string noE = text;
  noE.erase(noE.find("E 16\n"), 5);
  EXPECT_EQ(errorOf(noE), "no 'E'");
}

/// A stand-in for a compiled layer: returns an [T, D] output of row indices
/// and a dropped count through the packed C interface.
TEST(LayerCall, PassesDescriptorsAndReadsResults) {
  run::LayerResults results;
  results.element = ref::ElementType::F32;
  results.numExperts = 2;
  results.hasDropped = true;
  std::vector<int64_t> seenShape;
  run::LayerCall call(results, [&](void **args) -> std::string {
    // args[0] -> pointer to the results' descriptors; args[1] -> pointer to
    // the tokens' descriptor {allocated, aligned, offset, T, D, D, 1}.
    auto *resultWords = *static_cast<int64_t **>(args[0]);
    auto *tokens = *static_cast<int64_t **>(args[1]);
    int64_t T = tokens[3], D = tokens[4];
    seenShape = {T, D, tokens[5], tokens[6]};
    auto *out = static_cast<float *>(std::malloc(sizeof(float) * T * D));
    for (int64_t i = 0; i < T * D; ++i)
      out[i] = float(i / D);
    int64_t output[7] = {int64_t(out), int64_t(out), 0, T, D, D, 1};
    std::memcpy(resultWords, output, sizeof(output));
    auto *dropped = static_cast<int64_t *>(std::malloc(sizeof(int64_t)));
    *dropped = 3;
    resultWords[7] = resultWords[8] = int64_t(dropped);
    resultWords[9] = 0;
    return "";
  });
  run::Input tokens;
  tokens.shape = {3, 2};
  tokens.data.assign(6, 1.0f);
  run::LayerOutputs outputs;
  ASSERT_EQ(call.call({tokens}, outputs), "");
  EXPECT_EQ(seenShape, (std::vector<int64_t>{3, 2, 2, 1}));
  EXPECT_EQ(outputs.output, (std::vector<float>{0, 0, 1, 1, 2, 2}));
  ASSERT_TRUE(outputs.dropped.has_value());
  EXPECT_EQ(*outputs.dropped, 3);
  EXPECT_EQ(call.callDiscarding(), "");
}

/// An output that is not a C-order [T, D] array is refused, not read.
TEST(LayerCall, RefusesAStridedOutput) {
  run::LayerCall call(run::LayerResults(), [](void **args) -> std::string {
    auto *resultWords = *static_cast<int64_t **>(args[0]);
    auto *out = static_cast<float *>(std::malloc(sizeof(float) * 8));
    int64_t output[7] = {int64_t(out), int64_t(out), 0, 2, 2, 4, 1};
    std::memcpy(resultWords, output, sizeof(output));
    return "";
  });
  run::Input tokens;
  tokens.shape = {2, 2};
  tokens.data.assign(4, 0.0f);
  run::LayerOutputs outputs;
  EXPECT_EQ(call.call({tokens}, outputs),
            "the layer returned an output of 2x2 (strides 4, 1), not a "
            "C-order [T, D] array");
}

/// An output of another size than the reference's fails without being
/// compared element by element.
TEST(Check, FailsAnOutputOfAnotherSize) {
  run::LayerOutputs outputs;
  outputs.output.assign(6, 1.0f);
  ref::LayerResult expected;
  expected.output.assign(8, 1.0f);
  expected.routingMargins.assign(2, 1.0);
  run::CheckResult check = run::checkOutputs(outputs, expected, 1e-5, nullptr);
  EXPECT_FALSE(check.pass);
  EXPECT_EQ(run::formatCheck(check, outputs, expected, 4, 1e-5, ""),
            "  check: the output has 6 values, the reference 8: FAIL\n");
}

/// A layer that takes argument 1 packed: bind() packs it once with the
/// packing function, into a buffer of the packed shape, and the layer reads
/// that buffer; the other arguments are bound in place.
TEST(LayerCall, PacksWeightsWhenBound) {
  std::vector<int64_t> packedShapeSeen;
  float firstPackedValue = 0.0f;
  run::LayerCall call(run::LayerResults(), [&](void **args) -> std::string {
    auto *weight = *static_cast<int64_t **>(args[2]);
    packedShapeSeen.assign(weight + 3, weight + 6);
    firstPackedValue = reinterpret_cast<float *>(weight[1])[0];
    auto *resultWords = *static_cast<int64_t **>(args[0]);
    auto *out = static_cast<float *>(std::malloc(sizeof(float)));
    int64_t output[7] = {int64_t(out), int64_t(out), 0, 1, 1, 1, 1};
    std::memcpy(resultWords, output, sizeof(output));
    return "";
  });
  int packs = 0;
  run::WeightPacking packing;
  packing.argument = 1;
  packing.shape = {2, 3, 2};
  packing.pack = [&](void **args) -> std::string {
    ++packs;
    // args[0] -> the weight's descriptor, args[1] -> the packed buffer's.
    auto *from = *static_cast<int64_t **>(args[0]);
    auto *to = *static_cast<int64_t **>(args[1]);
    EXPECT_EQ(from[3], 3); // the weight's [3, 4]
    EXPECT_EQ(to[3], 2);   // the packed [2, 3, 2]
    reinterpret_cast<float *>(to[1])[0] =
        reinterpret_cast<float *>(from[1])[0] + 1.0f;
    return "";
  };
  call.setWeightPacking({packing});
  run::Input tokens, weight;
  tokens.shape = {1, 1};
  tokens.data = {0.0f};
  weight.shape = {3, 4};
  weight.data.assign(12, 41.0f);
  run::LayerOutputs outputs;
  ASSERT_EQ(call.call({tokens, weight}, outputs), "");
  EXPECT_EQ(packs, 1);
  EXPECT_EQ(packedShapeSeen, (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(firstPackedValue, 42.0f);
  ASSERT_EQ(call.call(outputs), "");
  EXPECT_EQ(packs, 1); // calls on the bound arguments do not pack again

  // A weight of another size than the packed buffer is refused.
  weight.shape = {3, 5};
  weight.data.assign(15, 0.0f);
  EXPECT_EQ(call.call({tokens, weight}, outputs),
            "packing argument 1: a [3, 5] weight does not pack into [2, 3, "
            "2]");
}

TEST(LayerCall, ReportsTheLayersError) {
  run::LayerCall call(run::LayerResults(),
                      [](void **) { return std::string("no GPU"); });
  run::LayerOutputs outputs;
  EXPECT_EQ(call.call({run::Input()}, outputs), "no GPU");
}

TEST(ExpertParallel, TokenSharesCoverTheBatchInOrder) {
  for (int64_t tokens : {0, 1, 3, 7, 64}) {
    for (int ranks : {1, 2, 4}) {
      int64_t next = 0, smallest = tokens, largest = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        run::TokenShare share = run::tokenShare(tokens, rank, ranks);
        EXPECT_EQ(share.begin, next) << tokens << " tokens, rank " << rank;
        next = share.end;
        smallest = std::min(smallest, share.size());
        largest = std::max(largest, share.size());
      }
      EXPECT_EQ(next, tokens);
      EXPECT_LE(largest - smallest, 1) << "shares differ by one at most";
    }
  }
}

TEST(ExpertParallel, ShardsTokensAndTheRoutedExpertsOnly) {
  auto input = [](std::vector<int64_t> shape, ref::ElementType element) {
    run::Input in;
    in.shape = shape;
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    for (int64_t i = 0; i < n; ++i)
      in.data.push_back(float(i));
    in.narrowTo(element);
    return in;
  };
  const ref::ElementType bf16 = ref::ElementType::BF16;
  std::vector<run::Input> args = {input({5, 2}, bf16),    input({4, 2}, bf16),
                                  input({4, 3, 2}, bf16), input({4, 3}, bf16),
                                  input({4, 2, 3}, bf16), input({6, 2}, bf16)};
  std::vector<run::Role> roles = {run::Role::Tokens, run::Role::Router,
                                  run::Role::Up,     run::Role::UpBias,
                                  run::Role::Down,   run::Role::SharedUp};
  std::vector<run::Input> shard;
  ASSERT_EQ(run::shardInputs(args, roles, 4, 1, 2, shard), "");
  ASSERT_EQ(shard.size(), args.size());
  // Rank 1 of 2: tokens 3 and 4, experts 2 and 3.
  EXPECT_EQ(shard[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(shard[0].data.front(), 6.0f);
  EXPECT_EQ(shard[0].narrow.size(), 4u) << "the bf16 words are sliced too";
  EXPECT_EQ(shard[0].narrow.front(), args[0].narrow[6]);
  EXPECT_EQ(shard[1].shape, args[1].shape) << "the router is whole";
  EXPECT_EQ(shard[2].shape, (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(shard[2].data.front(), 12.0f);
  EXPECT_EQ(shard[3].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(shard[4].shape, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(shard[5].shape, args[5].shape) << "shared experts are whole";
  EXPECT_NE(run::shardInputs(args, roles, 4, 0, 3, shard), "")
      << "3 ranks cannot share 4 experts";
}
