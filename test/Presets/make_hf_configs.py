#!/usr/bin/env python3
"""Writes the config.json that Hugging Face transformers saves for each model
family moe-preset reads, at the published models' sizes, into OUT_DIR
(test/Presets/Inputs/hf-configs by default): the inputs of
test/Presets/hf-config.test. hf-configs-current.test checks that the
committed files are what this transformers version writes.

    .venv/bin/python test/Presets/make_hf_configs.py [OUT_DIR]

Each file is named after the preset whose layer it must give.
"""

import json
import os
import sys
import tempfile

import transformers as t

# preset: (config class, the published model's values). Kimi-K2 has no class
# in transformers: its published config.json is DeepSeek-V3's with
# model_type "kimi_k2".
CONFIGS = {
    "mixtral-8x7b": (t.MixtralConfig, dict(
        hidden_size=4096, intermediate_size=14336, num_local_experts=8,
        num_experts_per_tok=2)),
    "deepseek-v2": (t.DeepseekV2Config, dict(
        hidden_size=5120, moe_intermediate_size=1536, n_routed_experts=160,
        num_experts_per_tok=6, n_shared_experts=2, n_group=8, topk_group=3,
        topk_method="group_limited_greedy", routed_scaling_factor=16.0,
        norm_topk_prob=False)),
    "deepseek-v3": (t.DeepseekV3Config, dict(
        hidden_size=7168, moe_intermediate_size=2048, n_routed_experts=256,
        num_experts_per_tok=8, n_shared_experts=1, n_group=8, topk_group=4,
        routed_scaling_factor=2.5, norm_topk_prob=True)),
    "kimi-k2": (t.DeepseekV3Config, dict(
        hidden_size=7168, moe_intermediate_size=2048, n_routed_experts=384,
        num_experts_per_tok=8, n_shared_experts=1, n_group=1, topk_group=1,
        routed_scaling_factor=2.827, norm_topk_prob=True)),
    "qwen2-moe": (t.Qwen2MoeConfig, dict(
        hidden_size=3584, moe_intermediate_size=2560,
        shared_expert_intermediate_size=20480, num_experts=64,
        num_experts_per_tok=8, norm_topk_prob=False)),
    "qwen3-30b-a3b": (t.Qwen3MoeConfig, dict(
        hidden_size=2048, moe_intermediate_size=768, num_experts=128,
        num_experts_per_tok=8, norm_topk_prob=True)),
    "olmoe-1b-7b": (t.OlmoeConfig, dict(
        hidden_size=2048, intermediate_size=1024, num_experts=64,
        num_experts_per_tok=8, norm_topk_prob=False)),
    "gpt-oss-20b": (t.GptOssConfig, dict(
        hidden_size=2880, intermediate_size=2880, num_local_experts=32,
        num_experts_per_tok=4)),
    "llama4-scout": (t.Llama4Config, dict(text_config=dict(
        hidden_size=5120, intermediate_size=8192, num_local_experts=16,
        num_experts_per_tok=1))),
    "switch-base-8": (t.SwitchTransformersConfig, dict(
        d_model=768, d_ff=3072, num_experts=8, expert_capacity=64)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "Inputs", "hf-configs")
    os.makedirs(out, exist_ok=True)
    for preset, (cls, values) in CONFIGS.items():
        config = cls(**values)
        with tempfile.TemporaryDirectory() as tmp:
            config.save_pretrained(tmp)
            with open(os.path.join(tmp, "config.json")) as f:
                saved = json.load(f)
        if preset == "kimi-k2":
            saved["model_type"] = "kimi_k2"
            saved["architectures"] = ["DeepseekV3ForCausalLM"]
        # The version stamp would make every transformers release differ.
        saved.pop("transformers_version", None)
        with open(os.path.join(out, preset + ".json"), "w") as f:
            json.dump(saved, f, indent=2, sort_keys=True)
            f.write("\n")
    print("wrote %d configs to %s" % (len(CONFIGS), out))


if __name__ == "__main__":
    main()
