// The two examples run under moe-run and match the reference: the
// Mixtral-style layer (dropless) and the Switch-style layer (capacity factor
// 1.25: some assignments are dropped, and the count matches the reference's).
//
// RUN: moe-run %moe_src_root/examples/mixtral.mlir --tokens=1 --runs=1 | FileCheck %s --check-prefix=MIXTRAL
// RUN: moe-run %moe_src_root/examples/mixtral.mlir --tokens=13 --runs=1 | FileCheck %s --check-prefix=MIXTRAL
// RUN: moe-run %moe_src_root/examples/switch.mlir --tokens=64 --runs=1 | FileCheck %s --check-prefix=SWITCH
// RUN: moe-run %moe_src_root/examples/switch.mlir --tokens=7 --runs=1 | FileCheck %s --check-prefix=SWITCH

// MIXTRAL: @mixtral_moe: T={{[0-9]+}} D=512 F=1792 E=8 k=2 f32, seed=
// MIXTRAL: check: {{.*}}: PASS
// MIXTRAL: time: median

// SWITCH: @switch_moe: T={{[0-9]+}} D=384 F=1536 E=8 k=1 f32, seed=
// SWITCH: check: {{.*}}, dropped [[N:[0-9]+]] (reference [[N]]): PASS
