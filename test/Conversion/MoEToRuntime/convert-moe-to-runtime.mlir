// RUN: moe-opt %s --convert-moe-to-runtime --split-input-file | FileCheck %s
// RUN: moe-opt %s --convert-moe-to-runtime=gpu-rows --split-input-file | FileCheck %s --check-prefix=GPU

// With gpu-rows (moe-gpu-pipeline's layers) the same lowering calls the GPU
// layer communicator's entry points, with the same arguments.
// GPU-LABEL: func.func @rows
// GPU: call @moe_rt_layer_gpu_exchange_counts(%{{.+}}, %{{.+}}, %{{.+}}) : (i64, i64, i64) -> ()
// GPU: call @moe_rt_layer_gpu_all_to_all(%{{.+}}) : (i64, i64, i64, i64, i64, i64, i64, i64) -> ()
// GPU-NOT: call @moe_rt_layer_exchange_counts
// GPU-NOT: call @moe_rt_layer_all_to_all
// GPU: func.func private @moe_rt_layer_gpu_exchange_counts(i64, i64, i64)
// GPU: func.func private @moe_rt_layer_gpu_all_to_all(i64, i64, i64, i64, i64, i64, i64, i64)

// Counts first, into a fresh buffer; their sum sizes the received rows;
// then the rows. Addresses travel as i64; the send rows may sit at any
// offset (a slice of the dispatched buffer), the address includes it.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: (%[[ROWS:[^:]+]]: tensor<?x4xf32>, %[[COUNTS:[^:]+]]: tensor<2xi64>)
// CHECK-DAG: %[[R:.+]] = arith.constant 2 : i64
// CHECK: %[[SC:.+]] = bufferization.to_buffer %[[COUNTS]] read_only : tensor<2xi64> to memref<2xi64>
// CHECK: %[[RC:.+]] = memref.alloc() : memref<2xi64>
// CHECK: %[[SCP:.+]] = memref.extract_aligned_pointer_as_index %[[SC]]
// CHECK: %[[SCA:.+]] = arith.index_cast %[[SCP]] : index to i64
// CHECK: %[[RCP:.+]] = memref.extract_aligned_pointer_as_index %[[RC]]
// CHECK: %[[RCA:.+]] = arith.index_cast %[[RCP]] : index to i64
// CHECK: call @moe_rt_layer_exchange_counts(%[[R]], %[[SCA]], %[[RCA]]) : (i64, i64, i64) -> ()
// CHECK: %[[N:.+]] = scf.for
// CHECK:   memref.load %[[RC]]
// CHECK:   arith.addi
// CHECK: %[[NI:.+]] = arith.index_cast %[[N]] : i64 to index
// CHECK: %[[RECV:.+]] = memref.alloc(%[[NI]]) : memref<?x4xf32>
// CHECK: %[[SEND:.+]] = bufferization.to_buffer %[[ROWS]] read_only : tensor<?x4xf32> to memref<?x4xf32, strided<[4, 1], offset: ?>>
// CHECK: %[[SENDROWS:.+]] = arith.index_cast %{{.+}} : index to i64
// CHECK: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index %[[SEND]]
// CHECK: %{{[^,]+}}, %[[OFFSET:[^,]+]], %{{[^=]+}} = memref.extract_strided_metadata %[[SEND]]
// CHECK: %[[BYTES:.+]] = arith.muli %[[OFFSET]], %c4 : index
// CHECK: %[[ADDR:.+]] = arith.addi %[[BASE]], %[[BYTES]] : index
// CHECK: %[[SENDA:.+]] = arith.index_cast %[[ADDR]] : index to i64
// CHECK: %[[ROWBYTES:.+]] = arith.constant 16 : i64
// CHECK: call @moe_rt_layer_all_to_all(%[[R]], %[[SENDA]], %[[SENDROWS]], %{{.+}}, %{{.+}}, %[[N]], %{{.+}}, %[[ROWBYTES]]) : (i64, i64, i64, i64, i64, i64, i64, i64) -> ()
// CHECK: %[[OUT:.+]] = bufferization.to_tensor %[[RECV]] restrict writable : memref<?x4xf32> to tensor<?x4xf32>
// CHECK: %[[OUTC:.+]] = bufferization.to_tensor %[[RC]] restrict writable : memref<2xi64> to tensor<2xi64>
// CHECK: return %[[OUT]], %[[OUTC]]
// CHECK: func.func private @moe_rt_layer_exchange_counts(i64, i64, i64)
// CHECK: func.func private @moe_rt_layer_all_to_all(i64, i64, i64, i64, i64, i64, i64, i64)
func.func @rows(%rows: tensor<?x4xf32>, %counts: tensor<2xi64>)
    -> (tensor<?x4xf32>, tensor<2xi64>) {
  %r, %c = moe.all_to_all %rows, %counts
    : (tensor<?x4xf32>, tensor<2xi64>) -> (tensor<?x4xf32>, tensor<2xi64>)
  return %r, %c : tensor<?x4xf32>, tensor<2xi64>
}

// -----

// Scalars (rows of one i32: the experts' ids) and a static result, whose
// size is what the runtime is told the buffer holds. Two exchanges share
// the declarations.
// CHECK-LABEL: func.func @scalars
// CHECK: %[[SIX:.+]] = arith.constant 6 : i64
// CHECK: %[[RECV:.+]] = memref.alloc() : memref<6xi32>
// CHECK: to_buffer %{{.+}} read_only : tensor<?xi32> to memref<?xi32, strided<[1], offset: ?>>
// CHECK: call @moe_rt_layer_all_to_all(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[SIX]], %{{[^,]+}}, %c4_i64{{.*}})
// CHECK: call @moe_rt_layer_exchange_counts
// CHECK: call @moe_rt_layer_all_to_all
// CHECK-COUNT-1: func.func private @moe_rt_layer_exchange_counts
// CHECK-COUNT-1: func.func private @moe_rt_layer_all_to_all
func.func @scalars(%ids: tensor<?xi32>, %counts: tensor<4xi64>)
    -> (tensor<6xi32>, tensor<?xi32>) {
  %r, %c = moe.all_to_all %ids, %counts
    : (tensor<?xi32>, tensor<4xi64>) -> (tensor<6xi32>, tensor<4xi64>)
  %back, %c2 = moe.all_to_all %r, %c
    : (tensor<6xi32>, tensor<4xi64>) -> (tensor<?xi32>, tensor<4xi64>)
  return %r, %back : tensor<6xi32>, tensor<?xi32>
}
