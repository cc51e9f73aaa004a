// moe-run --weights: a layer's weights from a .safetensors checkpoint in a
// family's Hugging Face naming (here Mixtral's per-expert w1/w2/w3 keys,
// stored as F32, BF16 and F16), converted to the operand layouts and
// checked against the reference; and every way a checkpoint can be wrong.
// test/Conformance/checkpoint-*.test read checkpoints that transformers
// itself wrote, for every family layout.
//
// RUN: rm -rf %t && python3 %S/Inputs/write-safetensors.py %t
// RUN: moe-run %s --entry=mixtral --tokens=9 --runs=1 --weights=%t/mixtral.safetensors --weights-layout=mixtral --dump=%t/dump | FileCheck %s
// The weights moe-run used are exactly the checkpoint's, converted from
// F32, BF16 and F16 and stacked over the experts.
// RUN: python3 %S/Inputs/write-safetensors.py %t --check | FileCheck %s --check-prefix=DUMPED
// RUN: moe-run %s --entry=mixtral --tokens=1 --runs=1 --weights=%t/two-layers.safetensors --weights-layout=mixtral --weights-prefix=model.layers.1. | FileCheck %s
//
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/mixtral.safetensors 2>&1 | FileCheck %s --check-prefix=NO-LAYOUT
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/mixtral.safetensors --weights-layout=gemma 2>&1 | FileCheck %s --check-prefix=BAD-LAYOUT
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/mixtral.safetensors --weights-layout=qwen2-moe 2>&1 | FileCheck %s --check-prefix=WRONG-LAYOUT
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/two-layers.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/two-layers.safetensors --weights-layout=mixtral --weights-prefix=model.layers.7. 2>&1 | FileCheck %s --check-prefix=PREFIX
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/int8.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=INT8
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/ragged.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=RAGGED
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/truncated.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not moe-run %s --entry=mixtral --runs=1 --weights=%t/missing.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not moe-run %s --entry=wider --runs=1 --weights=%t/mixtral.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not moe-run %s --entry=biased --runs=1 --weights=%t/mixtral.safetensors --weights-layout=mixtral 2>&1 | FileCheck %s --check-prefix=OPERAND

// CHECK: T={{[0-9]+}} D=4 F=3 E=2 k=1 f32, seed={{[0-9]+}}, weights from {{.*}}.safetensors (mixtral)
// CHECK: check: {{.*}}: PASS
// DUMPED: dumped weights equal the checkpoint's: 4 tensors
// NO-LAYOUT: error: --weights needs --weights-layout (one of mixtral, qwen2-moe, qwen3-moe, olmoe, deepseek, gpt-oss, llama4, switch)
// BAD-LAYOUT: error: --weights: unknown checkpoint layout 'gemma' (known: mixtral, qwen2-moe,
// WRONG-LAYOUT: error: --weights: no key ending in 'mlp.gate.weight' in the checkpoint (is the layout 'qwen2-moe' right?)
// TWO: error: --weights: the checkpoint has 2 MoE layers (model.layers.0.block_sparse_moe., model.layers.1.block_sparse_moe.); choose one with --weights-prefix
// PREFIX: error: --weights: no 'model.layers.7.block_sparse_moe.gate.weight' in the checkpoint
// INT8: error: --weights: tensor 'model.layers.0.block_sparse_moe.experts.1.w1.weight' is I8; moe-run reads F32, BF16, F16 and F64
// RAGGED: error: --weights: tensor 'model.layers.0.block_sparse_moe.experts.1.w2.weight' is [4, 4], expert 0's is [4, 3]
// TRUNCATED: error: --weights: '{{.*}}truncated.safetensors' is not a safetensors file (header past the end)
// MISSING: error: --weights: cannot read '{{.*}}missing.safetensors'
// SHAPE: error: --weights: router weight is [2, 4], the layer expects [2, 8]
// OPERAND: error: --weights: the layer has a router bias, which layout 'mixtral' does not have

func.func @mixtral(%x: tensor<?x4xf32>, %wr: tensor<2x4xf32>,
                   %wg: tensor<2x3x4xf32>, %wu: tensor<2x3x4xf32>,
                   %wd: tensor<2x4x3xf32>) -> tensor<?x4xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>,
         router = #moe.router<k = 1, order = topk_softmax>}
       : (tensor<?x4xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>,
          tensor<2x3x4xf32>, tensor<2x4x3xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

func.func @wider(%x: tensor<?x8xf32>, %wr: tensor<2x8xf32>,
                 %wg: tensor<2x3x8xf32>, %wu: tensor<2x3x8xf32>,
                 %wd: tensor<2x8x3xf32>) -> tensor<?x8xf32> {
  %y = moe.layer %x router(%wr) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 1>}
       : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x3x8xf32>,
          tensor<2x3x8xf32>, tensor<2x8x3xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

func.func @biased(%x: tensor<?x4xf32>, %wr: tensor<2x4xf32>, %b: tensor<2xf32>,
                  %wg: tensor<2x3x4xf32>, %wu: tensor<2x3x4xf32>,
                  %wd: tensor<2x4x3xf32>) -> tensor<?x4xf32> {
  %y = moe.layer %x router(%wr) bias(%b) gate(%wg) up(%wu) down(%wd) {
         activation = #moe.activation<swiglu>,
         capacity = #moe.capacity<dropless>, router = #moe.router<k = 1>}
       : (tensor<?x4xf32>, tensor<2x4xf32>, tensor<2xf32>, tensor<2x3x4xf32>,
          tensor<2x3x4xf32>, tensor<2x4x3xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
