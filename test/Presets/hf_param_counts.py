#!/usr/bin/env python3
"""Counts the presets' parameters with the model families' own code.

For each preset with a Hugging Face `transformers` implementation, this
builds the whole model from its published config.json values on PyTorch's
meta device (shapes only, no memory) and compares:

  * moe-cost's layer parameters (`moe-preset NAME | moe-opt --moe-cost`)
    with the parameters of the model's first MoE block: its total, and its
    active count (everything in the block but the routed experts, plus k/E
    of them);
  * the whole model's parameter count, printed for the lit test to compare
    with the hand-computed sums of test/Presets/cost-cross-check.test.

The configs here are written down from the models' config.json files,
independently of moe-preset's table (a disagreeing width shows up as a
different count). Learned buffers count as parameters: DeepSeek-V3's score
correction bias is a buffer in transformers and a learned [E] vector in the
checkpoint.

Usage: hf_param_counts.py [PRESET...]   (default: every preset below)
Needs moe-preset and moe-opt on PATH. Exit status 0 when every block
matches, 1 otherwise.
"""

import json
import subprocess
import sys

import torch
import transformers as hf


def mixtral():
    return hf.MixtralForCausalLM(hf.MixtralConfig(
        vocab_size=32000, hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
        num_local_experts=8, num_experts_per_tok=2))


def deepseek_v2():
    return hf.DeepseekV2ForCausalLM(hf.DeepseekV2Config(
        vocab_size=102400, hidden_size=5120, intermediate_size=12288,
        moe_intermediate_size=1536, num_hidden_layers=60,
        num_attention_heads=128, num_key_value_heads=128,
        n_routed_experts=160, n_shared_experts=2, num_experts_per_tok=6,
        n_group=8, topk_group=3, topk_method="group_limited_greedy",
        first_k_dense_replace=1, q_lora_rank=1536, kv_lora_rank=512,
        qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128))


def deepseek_v3_like(vocab, heads, experts, groups, topk_groups, dense):
    return hf.DeepseekV3ForCausalLM(hf.DeepseekV3Config(
        vocab_size=vocab, hidden_size=7168, intermediate_size=18432,
        moe_intermediate_size=2048, num_hidden_layers=61,
        num_attention_heads=heads, num_key_value_heads=heads,
        n_routed_experts=experts, n_shared_experts=1, num_experts_per_tok=8,
        n_group=groups, topk_group=topk_groups, first_k_dense_replace=dense,
        q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
        qk_rope_head_dim=64, v_head_dim=128))


def qwen2_moe():
    return hf.Qwen2MoeForCausalLM(hf.Qwen2MoeConfig(
        vocab_size=151936, hidden_size=3584, intermediate_size=18944,
        moe_intermediate_size=2560, shared_expert_intermediate_size=20480,
        num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
        num_experts=64, num_experts_per_tok=8, decoder_sparse_step=1,
        mlp_only_layers=[]))


def qwen3_moe():
    return hf.Qwen3MoeForCausalLM(hf.Qwen3MoeConfig(
        vocab_size=151936, hidden_size=2048, intermediate_size=6144,
        moe_intermediate_size=768, num_hidden_layers=48,
        num_attention_heads=32, num_key_value_heads=4, head_dim=128,
        num_experts=128, num_experts_per_tok=8, decoder_sparse_step=1,
        mlp_only_layers=[]))


def olmoe():
    return hf.OlmoeForCausalLM(hf.OlmoeConfig(
        vocab_size=50304, hidden_size=2048, intermediate_size=1024,
        num_hidden_layers=16, num_attention_heads=16, num_key_value_heads=16,
        num_experts=64, num_experts_per_tok=8))


def gpt_oss():
    return hf.GptOssForCausalLM(hf.GptOssConfig(
        vocab_size=201088, hidden_size=2880, intermediate_size=2880,
        num_hidden_layers=24, num_attention_heads=64, num_key_value_heads=8,
        head_dim=64, num_local_experts=32, num_experts_per_tok=4))


def llama4_scout():
    # The whole checkpoint, vision encoder included (the published 109B).
    return hf.Llama4ForConditionalGeneration(hf.Llama4Config(
        text_config=dict(
            vocab_size=202048, hidden_size=5120, intermediate_size=8192,
            intermediate_size_mlp=16384, num_hidden_layers=48,
            num_attention_heads=40, num_key_value_heads=8, head_dim=128,
            num_local_experts=16, num_experts_per_tok=1,
            interleave_moe_layer_step=1),
        vision_config=dict(
            hidden_size=1408, image_size=336, patch_size=14,
            intermediate_size=5632, num_attention_heads=16,
            num_hidden_layers=34, pixel_shuffle_ratio=0.5,
            projector_input_dim=4096, projector_output_dim=4096,
            vision_output_dim=4096, multi_modal_projector_bias=False)))


def switch_base_8():
    return hf.SwitchTransformersForConditionalGeneration(
        hf.SwitchTransformersConfig(
            vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_heads=12,
            num_layers=12, num_decoder_layers=12,
            num_sparse_encoder_layers=6, num_sparse_decoder_layers=6,
            num_experts=8, router_bias=False))


# preset -> (model builder, the MoE block's class name, E, k)
MODELS = {
    "mixtral-8x7b": (mixtral, "MixtralSparseMoeBlock", 8, 2),
    "deepseek-v2": (deepseek_v2, "DeepseekV2Moe", 160, 6),
    "deepseek-v3": (lambda: deepseek_v3_like(129280, 128, 256, 8, 4, 3),
                    "DeepseekV3MoE", 256, 8),
    "kimi-k2": (lambda: deepseek_v3_like(163840, 64, 384, 1, 1, 1),
                "DeepseekV3MoE", 384, 8),
    "qwen2-moe": (qwen2_moe, "Qwen2MoeSparseMoeBlock", 64, 8),
    "qwen3-30b-a3b": (qwen3_moe, "Qwen3MoeSparseMoeBlock", 128, 8),
    "olmoe-1b-7b": (olmoe, "OlmoeSparseMoeBlock", 64, 8),
    "gpt-oss-20b": (gpt_oss, "GptOssMLP", 32, 4),
    "llama4-scout": (llama4_scout, "Llama4TextMoe", 16, 1),
    "switch-base-8": (switch_base_8, "SwitchTransformersSparseMLP", 8, 1),
}


def count(module):
    """Parameters plus learned buffers (the score correction bias)."""
    n = sum(p.numel() for p in module.parameters())
    n += sum(b.numel() for name, b in module.named_buffers()
             if name.endswith("e_score_correction_bias"))
    return n


def moe_cost_params(preset):
    layer = subprocess.run(["moe-preset", preset], check=True,
                           capture_output=True, text=True).stdout
    report = subprocess.run(
        ["moe-opt", "--moe-cost=format=json", "-o", "/dev/null"],
        input=layer, check=True, capture_output=True, text=True).stdout
    return json.loads(report)["layers"][0]["params"]


def main():
    presets = sys.argv[1:] or list(MODELS)
    failures = 0
    for preset in presets:
        build, block_class, experts, k = MODELS[preset]
        ours = moe_cost_params(preset)
        with torch.device("meta"):
            model = build()
        block = next(m for m in model.modules()
                     if type(m).__name__ == block_class)
        block_total = count(block)
        routed = count(block.experts)
        if routed % experts:
            sys.exit(f"{preset}: {routed} expert parameters do not split "
                     f"into {experts} experts")
        block_active = block_total - routed + k * (routed // experts)
        same = (ours["total"], ours["active"]) == (block_total, block_active)
        failures += not same
        print(f"{preset}: moe-cost total {ours['total']} active "
              f"{ours['active']}; transformers {type(model).__name__} block "
              f"total {block_total} active {block_active}: "
              f"{'same' if same else 'DIFFERENT'}; model {count(model)}")
    print(f"{len(presets) - failures} of {len(presets)} presets match "
          f"transformers {hf.__version__}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
