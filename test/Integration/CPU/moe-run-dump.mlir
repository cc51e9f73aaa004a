// moe-run --dump=DIR writes the seeded inputs (argN.npy, in argument order)
// and the reference output (reference.npy, plus reference_dropped.txt for a
// layer that returns its dropped count) as NumPy .npy v1.0 f32 files, then
// checks the layer as usual. A header is the magic "\x93NUMPY", version 1.0,
// a little-endian u16 length (0x76 = 118: data at byte 128), then a dict.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: moe-run %s --entry=capacity --tokens=9 --seed=7 --runs=1 --dump=%t/cap | FileCheck %s --check-prefix=OUT
// RUN: ls %t/cap | FileCheck %s --check-prefix=FILES
// RUN: head -c 10 %t/cap/arg0.npy | od -An -tx1 | FileCheck %s --check-prefix=MAGIC
// RUN: head -n 1 %t/cap/arg0.npy | FileCheck %s --check-prefix=TOKENS
// RUN: head -n 1 %t/cap/arg1.npy | FileCheck %s --check-prefix=ROUTER
// RUN: head -n 1 %t/cap/arg2.npy | FileCheck %s --check-prefix=BIAS
// RUN: head -n 1 %t/cap/arg3.npy | FileCheck %s --check-prefix=UP
// RUN: head -n 1 %t/cap/arg4.npy | FileCheck %s --check-prefix=DOWN
// RUN: head -n 1 %t/cap/reference.npy | FileCheck %s --check-prefix=TOKENS
// 128 header bytes + 9 * 16 * 4 data bytes; 128 + 4 * 4 for the bias.
// RUN: wc -c < %t/cap/arg0.npy | FileCheck %s --check-prefix=SIZE-TOKENS
// RUN: wc -c < %t/cap/arg2.npy | FileCheck %s --check-prefix=SIZE-BIAS
// RUN: cat %t/cap/reference_dropped.txt | FileCheck %s --check-prefix=DROPPED
//
// The same seed gives the same files; a layer without a dropped count leaves
// no reference_dropped.txt, even over an earlier dump's.
// RUN: moe-run %s --entry=capacity --tokens=9 --seed=7 --runs=1 --dump=%t/again > /dev/null
// RUN: cmp %t/cap/arg3.npy %t/again/arg3.npy
// RUN: cmp %t/cap/reference.npy %t/again/reference.npy
// RUN: moe-run %s --entry=dropless --tokens=3 --runs=1 --dump=%t/cap | FileCheck %s --check-prefix=DROPLESS
// RUN: ls %t/cap | FileCheck %s --check-prefix=NODROPPED
// RUN: head -n 1 %t/cap/reference.npy | FileCheck %s --check-prefix=REF3
//
// An unwritable directory is a usage error (exit 2).
// RUN: touch %t/file
// RUN: not moe-run %s --entry=dropless --tokens=3 --runs=1 --dump=%t/file/sub 2>&1 | FileCheck %s --check-prefix=BADDIR

//
// --inputs reads the dumped arrays back (T from the tokens' rows) and
// --expect compares with an external output: here the dumped reference,
// which the reference matches exactly.
// RUN: moe-run %s --entry=capacity --runs=1 --inputs=%t/again --expect=%t/again/reference.npy | FileCheck %s --check-prefix=INPUTS
// Wrong files are usage errors: shapes that do not fit the layer, a token
// count that disagrees, a missing file, an --expect of the wrong shape, a
// file that is not .npy.
// RUN: not moe-run %s --entry=dropless --runs=1 --inputs=%t/again 2>&1 | FileCheck %s --check-prefix=INPUTS-SHAPE
// RUN: not moe-run %s --entry=capacity --tokens=4 --runs=1 --inputs=%t/again 2>&1 | FileCheck %s --check-prefix=INPUTS-TOKENS
// RUN: not moe-run %s --entry=capacity --runs=1 --inputs=%t/none 2>&1 | FileCheck %s --check-prefix=INPUTS-MISSING
// RUN: not moe-run %s --entry=capacity --runs=1 --inputs=%t/again --expect=%t/again/arg1.npy 2>&1 | FileCheck %s --check-prefix=EXPECT-SHAPE
// RUN: not moe-run %s --entry=capacity --runs=1 --inputs=%t/again --expect=%t/again/reference_dropped.txt 2>&1 | FileCheck %s --check-prefix=EXPECT-BAD

// INPUTS: @capacity: T=9 D=16 F=24 E=4 k=2 f32, inputs from {{.*}}again
// INPUTS: check: {{.*}}; against {{.*}}reference.npy: compiled rel err {{.*}}, reference rel err 0.000e+00: PASS
// INPUTS-SHAPE: error: --inputs: arg2.npy is [4], the layer expects [4, 24, 16]
// INPUTS-TOKENS: error: --tokens=4 but {{.*}}arg0.npy has 9 tokens
// INPUTS-MISSING: error: --inputs: cannot read '{{.*}}none{{/|\\}}arg0.npy'
// EXPECT-SHAPE: error: --expect: {{.*}}arg1.npy is [4, 16], the output is [9, 16]
// EXPECT-BAD: error: --expect: '{{.*}}reference_dropped.txt' is not a usable .npy file: no .npy magic string
// OUT: dump: 5 inputs and the reference (with its dropped count) in {{.*}}cap
// OUT: check: {{.*}}, dropped [[N:[0-9]+]] (reference [[N]]): PASS
// FILES: arg0.npy
// FILES-NEXT: arg1.npy
// FILES-NEXT: arg2.npy
// FILES-NEXT: arg3.npy
// FILES-NEXT: arg4.npy
// FILES-NEXT: reference.npy
// FILES-NEXT: reference_dropped.txt
// MAGIC: 93 4e 55 4d 50 59 01 00 76 00
// TOKENS: NUMPY{{.*}}{'descr': '<f4', 'fortran_order': False, 'shape': (9, 16), }
// ROUTER: {'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }
// BIAS: {'descr': '<f4', 'fortran_order': False, 'shape': (4,), }
// UP: {'descr': '<f4', 'fortran_order': False, 'shape': (4, 24, 16), }
// DOWN: {'descr': '<f4', 'fortran_order': False, 'shape': (4, 16, 24), }
// SIZE-TOKENS: {{^ *}}704{{$}}
// SIZE-BIAS: {{^ *}}144{{$}}
// DROPPED: {{^[0-9]+$}}
// DROPLESS: dump: 4 inputs and the reference in {{.*}}cap
// DROPLESS: check: {{.*}}: PASS
// NODROPPED: reference.npy
// NODROPPED-NOT: reference_dropped.txt
// REF3: 'shape': (3, 16), }
// BADDIR: moe-run: error: --dump: cannot create '{{.*}}file/sub'

func.func @capacity(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                    %b: tensor<4xf32>, %wu: tensor<4x24x16xf32>,
                    %wd: tensor<4x16x24xf32>) -> (tensor<?x16xf32>, tensor<i64>) {
  %y, %d = moe.layer %x router(%wr) bias(%b) up(%wu) down(%wd) {
         router = #moe.router<k = 2>, capacity = #moe.capacity<fixed = 3>,
         activation = #moe.activation<relu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4xf32>,
          tensor<4x24x16xf32>, tensor<4x16x24xf32>) -> (tensor<?x16xf32>, tensor<i64>)
  return %y, %d : tensor<?x16xf32>, tensor<i64>
}

func.func @dropless(%x: tensor<?x16xf32>, %wr: tensor<4x16xf32>,
                    %wu: tensor<4x24x16xf32>, %wd: tensor<4x16x24xf32>)
    -> tensor<?x16xf32> {
  %y = moe.layer %x router(%wr) up(%wu) down(%wd) {
         router = #moe.router<k = 1>, capacity = #moe.capacity<dropless>,
         activation = #moe.activation<relu>}
       : (tensor<?x16xf32>, tensor<4x16xf32>, tensor<4x24x16xf32>,
          tensor<4x16x24xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
