#!/usr/bin/env python3
"""Checks moe-mlir's presets against the model families' own MoE blocks.

For a preset, this builds the family's Hugging Face `transformers` block from
a config holding the model's published hyper-parameters with the widths D, F
(and the shared experts' S) divided by --scale-down, fills it with seeded
random weights, runs it on random tokens, and hands the same weights and
tokens to the layer that `moe-preset NAME --scale-down=N` prints:
`moe-run --inputs DIR --expect hf.npy` compiles and runs our layer and checks
both the compiled output and our C++ reference against the block's output.

Where transformers has no block (GShard; Hugging Face 4.x's Switch, which
passed dropped tokens through), a PyTorch reference written from the paper's
(or that version's) semantics stands in, marked "paper" below.

The hyper-parameters here are written down independently of moe-preset's
table: a shape that disagrees makes moe-run reject the inputs.

With --checkpoint, the block is the MoE layer of a one-layer model of the
family (`...ForCausalLM`), which `save_pretrained` writes as a safetensors
checkpoint in the family's Hugging Face naming and layout (per-expert keys
such as `model.layers.0.block_sparse_moe.experts.3.w1.weight` for Mixtral,
GPT-OSS's fused interleaved `[in, out]` `gate_up_proj`); `moe-run --weights`
reads the layer's weights from that file (`--checkpoint-dtype bf16` stores
them in bf16; the block then runs on the same rounded values).

Usage: hf_conformance.py PRESET --work DIR [--tokens 1,5,13]
       [--scale-down 64] [--seed S] [--capacity C] [--dropped identity]
       [--checkpoint [--checkpoint-dtype bf16]]
Needs moe-preset and moe-run on PATH. Exit status 0 when every token count
matches, 1 otherwise.
"""

import argparse
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

import transformers
from transformers import (DeepseekV2Config, DeepseekV3Config, GptOssConfig,
                          Llama4TextConfig, MixtralConfig, OlmoeConfig,
                          Qwen2MoeConfig, Qwen3MoeConfig,
                          SwitchTransformersConfig)
from transformers.models.deepseek_v2.modeling_deepseek_v2 import DeepseekV2Moe
from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3MoE
from transformers.models.gpt_oss.modeling_gpt_oss import GptOssMLP
from transformers.models.llama4.modeling_llama4 import Llama4TextMoe
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock
from transformers.models.olmoe.modeling_olmoe import OlmoeSparseMoeBlock
from transformers.models.qwen2_moe.modeling_qwen2_moe import \
    Qwen2MoeSparseMoeBlock
from transformers.models.qwen3_moe.modeling_qwen3_moe import \
    Qwen3MoeSparseMoeBlock
from transformers.models.switch_transformers.modeling_switch_transformers import \
    SwitchTransformersSparseMLP

# Attention sizes the configs need but the MoE blocks never use.
ATTENTION = dict(num_hidden_layers=1, num_attention_heads=4,
                 num_key_value_heads=2)
MLA = dict(q_lora_rank=None, kv_lora_rank=8, qk_nope_head_dim=8,
           qk_rope_head_dim=8, v_head_dim=8)


def np32(t):
    return np.ascontiguousarray(t.detach().to(torch.float32).cpu().numpy())


def split_concatenated(gate_up):
    """[E, 2F, D] with the gate rows first -> gate, up, each [E, F, D]."""
    f = gate_up.shape[1] // 2
    return gate_up[:, :f], gate_up[:, f:]


# --- Hugging Face blocks: config, block, weights in our operand order ------


def fused_experts_args(block):
    """Mixtral, Qwen2/3, OLMoE, DeepSeek: experts.gate_up_proj [E, 2F, D]
    (gate rows then up rows), experts.down_proj [E, D, F]."""
    gate, up = split_concatenated(block.experts.gate_up_proj)
    return [gate, up, block.experts.down_proj]


def shared_args(mlp):
    return [mlp.gate_proj.weight, mlp.up_proj.weight, mlp.down_proj.weight]


def mixtral(s):
    # mistralai/Mixtral-8x7B-v0.1: hidden 4096, intermediate 14336, 8 experts,
    # top-2 (softmax over all, top-2, renormalised).
    c = MixtralConfig(hidden_size=4096 // s, intermediate_size=14336 // s,
                      num_local_experts=8, num_experts_per_tok=2, **ATTENTION)
    return c, MixtralSparseMoeBlock, lambda b: [b.gate.weight] + fused_experts_args(b)


def qwen2_moe(s):
    # Qwen/Qwen2-57B-A14B: hidden 3584, moe_intermediate 2560, shared expert
    # 20480 with a sigmoid gate, 64 experts, top-8, norm_topk_prob false.
    c = Qwen2MoeConfig(hidden_size=3584 // s, intermediate_size=18944 // s,
                       moe_intermediate_size=2560 // s,
                       shared_expert_intermediate_size=20480 // s,
                       num_experts=64, num_experts_per_tok=8,
                       norm_topk_prob=False, **ATTENTION)
    return c, Qwen2MoeSparseMoeBlock, lambda b: (
        [b.gate.weight] + fused_experts_args(b) + shared_args(b.shared_expert)
        + [b.shared_expert_gate.weight])


def qwen3_moe(s):
    # Qwen/Qwen3-30B-A3B: hidden 2048, moe_intermediate 768, 128 experts,
    # top-8, norm_topk_prob true.
    c = Qwen3MoeConfig(hidden_size=2048 // s, intermediate_size=6144 // s,
                       moe_intermediate_size=768 // s, num_experts=128,
                       num_experts_per_tok=8, norm_topk_prob=True, **ATTENTION)
    return c, Qwen3MoeSparseMoeBlock, lambda b: [b.gate.weight] + fused_experts_args(b)


def olmoe(s):
    # allenai/OLMoE-1B-7B-0924: hidden 2048, intermediate 1024, 64 experts,
    # top-8, norm_topk_prob false.
    c = OlmoeConfig(hidden_size=2048 // s, intermediate_size=1024 // s,
                    num_experts=64, num_experts_per_tok=8,
                    norm_topk_prob=False, **ATTENTION)
    return c, OlmoeSparseMoeBlock, lambda b: [b.gate.weight] + fused_experts_args(b)


def deepseek_v2(s):
    # deepseek-ai/DeepSeek-V2: hidden 5120, moe_intermediate 1536, 160
    # experts, top-6, group_limited_greedy over 8 groups keeping 3, scaling
    # 16.0, 2 shared experts.
    c = DeepseekV2Config(hidden_size=5120 // s, intermediate_size=12288 // s,
                         moe_intermediate_size=1536 // s,
                         n_routed_experts=160, num_experts_per_tok=6,
                         n_shared_experts=2, n_group=8, topk_group=3,
                         topk_method="group_limited_greedy",
                         routed_scaling_factor=16.0, **MLA, **ATTENTION)
    return c, DeepseekV2Moe, lambda b: (
        [b.gate.weight] + fused_experts_args(b) + shared_args(b.shared_experts))


def deepseek_v3_like(s, experts, groups, topk_groups, scaling):
    c = DeepseekV3Config(hidden_size=7168 // s, intermediate_size=18432 // s,
                         moe_intermediate_size=2048 // s,
                         n_routed_experts=experts, num_experts_per_tok=8,
                         n_shared_experts=1, n_group=groups,
                         topk_group=topk_groups, norm_topk_prob=True,
                         routed_scaling_factor=scaling, **MLA, **ATTENTION)
    return c, DeepseekV3MoE, lambda b: (
        [b.gate.weight, b.gate.e_score_correction_bias]
        + fused_experts_args(b) + shared_args(b.shared_experts))


def deepseek_v3(s):
    # deepseek-ai/DeepSeek-V3: hidden 7168, moe_intermediate 2048, 256
    # experts, top-8 of 4 of 8 groups (sum of top-2), sigmoid, selection
    # bias, renormalised, scaling 2.5, 1 shared expert.
    return deepseek_v3_like(s, 256, 8, 4, 2.5)


def kimi_k2(s):
    # moonshotai/Kimi-K2-Instruct runs DeepSeek-V3's MoE block: 384
    # experts, one group, scaling 2.827.
    return deepseek_v3_like(s, 384, 1, 1, 2.827)


def gpt_oss(s):
    # openai/gpt-oss-20b: hidden 2880, intermediate 2880, 32 experts, top-4,
    # router bias, expert biases, swiglu limit 7.0 (alpha 1.702).
    c = GptOssConfig(hidden_size=2880 // s, intermediate_size=2880 // s,
                     num_local_experts=32, num_experts_per_tok=4,
                     swiglu_limit=7.0, head_dim=8, **ATTENTION)

    def args(b):
        e = b.experts
        # gate_up_proj [E, D, 2F] applied as x @ W, gate and up interleaved.
        gate = e.gate_up_proj[:, :, 0::2].transpose(1, 2)
        up = e.gate_up_proj[:, :, 1::2].transpose(1, 2)
        return [b.router.weight, b.router.bias, gate,
                e.gate_up_proj_bias[:, 0::2], up, e.gate_up_proj_bias[:, 1::2],
                e.down_proj.transpose(1, 2), e.down_proj_bias]
    return c, GptOssMLP, args


def llama4_scout(s):
    # meta-llama/Llama-4-Scout-17B-16E (text_config): hidden 5120, expert and
    # shared-expert intermediate 8192, 16 experts, top-1.
    c = Llama4TextConfig(hidden_size=5120 // s, intermediate_size=8192 // s,
                         intermediate_size_mlp=16384 // s,
                         num_local_experts=16, num_experts_per_tok=1,
                         head_dim=8, **ATTENTION)

    def args(b):
        e = b.experts
        # gate_up_proj [E, D, 2F] applied as x @ W, gate columns first.
        f = e.gate_up_proj.shape[2] // 2
        gate = e.gate_up_proj[:, :, :f].transpose(1, 2)
        up = e.gate_up_proj[:, :, f:].transpose(1, 2)
        return ([b.router.weight, gate, up, e.down_proj.transpose(1, 2)]
                + shared_args(b.shared_expert))
    return c, Llama4TextMoe, args


def switch_base_8(s, capacity):
    # google/switch-base-8: d_model 768, d_ff 3072, 8 experts, top-1,
    # expert_capacity 64 per sequence, ReLU.
    c = SwitchTransformersConfig(d_model=768 // s, d_ff=3072 // s,
                                 num_experts=8, expert_capacity=capacity,
                                 d_kv=8, num_heads=4, num_layers=2)

    def args(b):
        experts = [b.experts[f"expert_{i}"] for i in range(8)]
        return [b.router.classifier.weight,
                torch.stack([e.wi.weight for e in experts]),
                torch.stack([e.wo.weight for e in experts])]
    return c, SwitchTransformersSparseMLP, args


# --- Paper references (no transformers block) -------------------------------


def position_capacity_mask(ids, num_experts, capacity):
    """GShard's drop order: all first choices in token order, then all
    second choices; an expert keeps its first `capacity` assignments.
    ids [T, k] -> kept [T, k] (bool)."""
    T, k = ids.shape
    kept = torch.zeros(T, k, dtype=torch.bool)
    counts = torch.zeros(num_experts, dtype=torch.long)
    for j in range(k):
        onehot = F.one_hot(ids[:, j], num_experts)
        position = counts + torch.cumsum(onehot, 0) - 1  # [T, E]
        slot = position.gather(1, ids[:, j:j + 1])[:, 0]
        kept[:, j] = slot < capacity
        counts += (onehot * kept[:, j:j + 1]).sum(0)
    return kept


class ReluExperts(torch.nn.Module):
    """A router [E, D] and E ReLU FFN experts (up [E, F, D], down [E, D, F]):
    the parameters of the paper references below."""

    def __init__(self, d, f, e):
        super().__init__()
        self.router = torch.nn.Parameter(torch.empty(e, d))
        self.up = torch.nn.Parameter(torch.empty(e, f, d))
        self.down = torch.nn.Parameter(torch.empty(e, d, f))

    def expert(self, e, x):
        return self.down[e] @ F.relu(self.up[e] @ x)


class GShardReference(ReluExperts):
    """GShard (Lepikhin et al. 2020, Algorithm 1 at inference): softmax
    gates, top-2, the two gates normalised by their sum, capacity
    C = ceil(2 T / E) per expert, first choices before second choices,
    dropped assignments add nothing; ReLU FFN experts."""

    def __init__(self, d, f, e, capacity_factor=1.0):
        super().__init__(d, f, e)
        self.factor = capacity_factor

    def forward(self, x):
        x = x.reshape(-1, x.shape[-1])
        T, E = x.shape[0], self.router.shape[0]
        probs = torch.softmax(x @ self.router.T, dim=-1)
        gates, ids = torch.topk(probs, 2, dim=-1)
        gates = gates / gates.sum(-1, keepdim=True)
        capacity = int(np.ceil(self.factor * T * 2 / E - 1e-9))
        kept = position_capacity_mask(ids, E, capacity)
        y = torch.zeros_like(x)
        for t in range(T):
            for j in range(2):
                if kept[t, j]:
                    y[t] += gates[t, j] * self.expert(ids[t, j], x[t])
        return y


class SwitchPassThroughReference(ReluExperts):
    """Hugging Face transformers 4.x SwitchTransformersSparseMLP: top-1
    softmax, expert_capacity per sequence in token order, and a dropped
    token passed through: `hidden = router_prob * next_states` with
    next_states initialised to the input."""

    def __init__(self, d, f, e, capacity):
        super().__init__(d, f, e)
        self.capacity = capacity

    def forward(self, x):
        x = x.reshape(-1, x.shape[-1])
        probs = torch.softmax(x @ self.router.T, dim=-1)
        p, ids = probs.max(-1)
        kept = position_capacity_mask(ids[:, None], self.router.shape[0],
                                      self.capacity)[:, 0]
        next_states = x.clone()
        for t in range(x.shape[0]):
            if kept[t]:
                next_states[t] = self.expert(ids[t], x[t])
        return p[:, None] * next_states


class ExpertChoiceReference(torch.nn.Module):
    """Expert-choice routing (Zhou et al. 2022, "Mixture-of-Experts with
    Expert Choice Routing", section 3.1): S = softmax(X Wg) over the
    experts, each expert takes the C = ceil(k T / E) tokens with the largest
    scores (TopK over S^T), and a token's output is the score-weighted sum
    of the experts that took it; SwiGLU experts."""

    def __init__(self, d, f, e, k):
        super().__init__()
        self.router = torch.nn.Parameter(torch.empty(e, d))
        self.gate = torch.nn.Parameter(torch.empty(e, f, d))
        self.up = torch.nn.Parameter(torch.empty(e, f, d))
        self.down = torch.nn.Parameter(torch.empty(e, d, f))
        self.k = k

    def forward(self, x):
        x = x.reshape(-1, x.shape[-1])
        T, E = x.shape[0], self.router.shape[0]
        scores = torch.softmax(x @ self.router.T, dim=-1)      # [T, E]
        capacity = int(np.ceil(self.k * T / E - 1e-9))
        gates, tokens = torch.topk(scores.T, capacity, dim=1)  # [E, C]
        y = torch.zeros_like(x)
        for e in range(E):
            for c in range(capacity):
                t = tokens[e, c]
                h = F.silu(self.gate[e] @ x[t]) * (self.up[e] @ x[t])
                y[t] += gates[e, c] * (self.down[e] @ h)
        return y


FAMILIES = {
    "mixtral-8x7b": ("transformers", mixtral),
    "deepseek-v2": ("transformers", deepseek_v2),
    "deepseek-v3": ("transformers", deepseek_v3),
    "kimi-k2": ("transformers", kimi_k2),
    "qwen2-moe": ("transformers", qwen2_moe),
    "qwen3-30b-a3b": ("transformers", qwen3_moe),
    "olmoe-1b-7b": ("transformers", olmoe),
    "gpt-oss-20b": ("transformers", gpt_oss),
    "llama4-scout": ("transformers", llama4_scout),
    "switch-base-8": ("transformers", None),
    "gshard": ("paper", None),
    # Not a model: the expert-choice router, on the layer of
    # Inputs/expert-choice.mlir.
    "expert-choice": ("paper", None),
}


# --- Checkpoints written by transformers itself -----------------------------

# preset -> (model class name, moe-run --weights-layout, config changes that
# make layer 0 an MoE layer)
CHECKPOINTS = {
    "mixtral-8x7b": ("MixtralForCausalLM", "mixtral", {}),
    "qwen2-moe": ("Qwen2MoeForCausalLM", "qwen2-moe", {}),
    "qwen3-30b-a3b": ("Qwen3MoeForCausalLM", "qwen3-moe", {}),
    "olmoe-1b-7b": ("OlmoeForCausalLM", "olmoe", {}),
    "deepseek-v2": ("DeepseekV2ForCausalLM", "deepseek",
                    {"first_k_dense_replace": 0}),
    "deepseek-v3": ("DeepseekV3ForCausalLM", "deepseek",
                    {"first_k_dense_replace": 0}),
    "kimi-k2": ("DeepseekV3ForCausalLM", "deepseek",
                {"first_k_dense_replace": 0}),
    "gpt-oss-20b": ("GptOssForCausalLM", "gpt-oss", {}),
    "llama4-scout": ("Llama4ForCausalLM", "llama4", {}),
    "switch-base-8": ("SwitchTransformersEncoderModel", "switch",
                      {"num_layers": 2, "encoder_sparse_step": 2}),
}


def checkpoint_model(preset, s, capacity):
    """A one-layer model of the family whose (only) MoE block is the oracle."""
    name, layout, changes = CHECKPOINTS[preset]
    if preset == "switch-base-8":
        config, block_class, args = switch_base_8(s, capacity or 64)
    else:
        config, block_class, args = FAMILIES[preset][1](s)
        config.num_hidden_layers = 1
    config.vocab_size = 64
    for key, value in changes.items():
        setattr(config, key, value)
    config._experts_implementation = "eager"
    model = getattr(transformers, name)(config).float().eval()
    blocks = [m for m in model.modules() if isinstance(m, block_class)]
    if len(blocks) != 1:
        raise SystemExit("%s has %d %s blocks, expected 1" % (
            name, len(blocks), block_class.__name__))
    return model, blocks[0], args, layout


def build(preset, s, capacity, dropped):
    """The oracle block with random weights, and its weights in the order
    of the arguments of moe-preset's function."""
    source, make = FAMILIES[preset]
    if preset == "switch-base-8" and dropped == "identity":
        source = "paper (transformers 4.x Switch)"
        block = SwitchPassThroughReference(768 // s, 3072 // s, 8,
                                           capacity or 64)
        args = lambda b: [b.router, b.up, b.down]
    elif preset == "switch-base-8":
        config, cls, args = switch_base_8(s, capacity or 64)
        block = cls(config)
    elif preset == "gshard":
        block = GShardReference(1024 // s, 8192 // s, 2048)
        args = lambda b: [b.router, b.up, b.down]
    elif preset == "expert-choice":
        block = ExpertChoiceReference(48, 32, 16, 2)
        args = lambda b: [b.router, b.gate, b.up, b.down]
    else:
        config, cls, args = make(s)
        config._experts_implementation = "eager"
        block = cls(config)
    return source, block.float().eval(), args


def fill(block, generator):
    """Every float parameter and buffer (e.g. DeepSeek's score correction
    bias): N(0, 0.1^2). Blocks leave their expert tensors uninitialised."""
    with torch.no_grad():
        for _, p in list(block.named_parameters()) + list(block.named_buffers()):
            if p.is_floating_point():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)


def hidden_output(out, T):
    # GPT-OSS and Llama-4 return (hidden, router ...); Llama-4 flattens.
    out = out[0] if isinstance(out, tuple) else out
    return out.reshape(T, -1)


def compare_statistics(stdout, x, router, block):
    """The losses moe-run's compiled layer returned against transformers'
    own loss functions on the same router logits: Mixtral's
    load_balancing_loss_func (top-k, softmax probabilities) and Switch
    Transformers' router_z_loss_func."""
    from transformers.models.mixtral.modeling_mixtral import \
        load_balancing_loss_func
    from transformers.models.switch_transformers.modeling_switch_transformers \
        import router_z_loss_func
    line = [l for l in stdout.splitlines() if "statistics:" in l]
    if not line:
        return False, "no statistics in moe-run's output"
    words = line[0].replace(",", " ").split()
    aux = float(words[words.index("aux") + 2])
    z = float(words[words.index("z-loss") + 1])
    logits = torch.from_numpy(x.numpy() @ router.T)
    k = block.gate.top_k if hasattr(block, "gate") else 1
    hf_aux = float(load_balancing_loss_func((logits,), router.shape[0], k))
    hf_z = float(router_z_loss_func(logits[None]))
    rel = max(abs(aux - hf_aux) / abs(hf_aux), abs(z - hf_z) / abs(hf_z))
    ok = rel <= 1e-5
    return ok, ("statistics against transformers' loss functions: aux loss "
                "%.6e (transformers %.6e), z-loss %.6e (transformers %.6e), "
                "rel err %.3e: %s" % (aux, hf_aux, z, hf_z, rel,
                                      "PASS" if ok else "FAIL"))


def save(path, array):
    np.save(path, np.asarray(array, dtype="<f4"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", choices=sorted(FAMILIES))
    parser.add_argument("--work", required=True)
    parser.add_argument("--tokens", default="1,5,13")
    parser.add_argument("--scale-down", type=int, default=64)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--capacity", type=int, default=None)
    parser.add_argument("--dropped", choices=["zero", "identity"],
                        default=None)
    parser.add_argument("--statistics", action="store_true")
    parser.add_argument("--checkpoint", action="store_true")
    parser.add_argument("--checkpoint-dtype", choices=["f32", "bf16"],
                        default="f32")
    opts = parser.parse_args()
    if opts.checkpoint and opts.preset not in CHECKPOINTS:
        parser.error("%s has no transformers model to write a checkpoint"
                     % opts.preset)

    seed = opts.seed
    if seed is None:
        seed = int(os.environ.get("MOE_TEST_SEED", "0")) or \
            int.from_bytes(os.urandom(4), "little")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    os.makedirs(opts.work, exist_ok=True)

    # Our layer, from our preset table (expert choice: a fixed layer file).
    layer = os.path.join(opts.work, "layer.mlir")
    if opts.preset == "expert-choice":
        layer = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "Inputs", "expert-choice.mlir")
    command = ["moe-preset", opts.preset, "--scale-down=%d" % opts.scale_down]
    if opts.capacity is not None:
        command.append("--capacity=%d" % opts.capacity)
    if opts.dropped is not None:
        command.append("--dropped=" + opts.dropped)
    if opts.statistics:
        command.append("--statistics")
    if opts.preset != "expert-choice":
        with open(layer, "w") as out:
            subprocess.run(command, stdout=out, check=True)

    checkpoint = None
    if opts.checkpoint:
        model, block, to_args, layout = checkpoint_model(
            opts.preset, opts.scale_down, opts.capacity)
        source = "transformers"
        fill(block, generator)
        dtype = torch.bfloat16 if opts.checkpoint_dtype == "bf16" else torch.float32
        with torch.no_grad():
            for p in list(block.parameters()) + list(block.buffers()):
                if p.is_floating_point():
                    p.copy_(p.to(dtype).float())
        directory = os.path.join(opts.work, "checkpoint")
        model.to(dtype).save_pretrained(directory)
        model.float()
        checkpoint = (os.path.join(directory, "model.safetensors"), layout)
    else:
        source, block, to_args = build(opts.preset, opts.scale_down,
                                       opts.capacity, opts.dropped)
        fill(block, generator)
    weights = [np32(w) for w in to_args(block)]
    d = weights[0].shape[1]
    print("conformance %s: oracle %s (transformers %s, torch %s), "
          "scale-down %d, D=%d, seed %d%s" % (
              opts.preset, source, transformers.__version__,
              torch.__version__.split("+")[0], opts.scale_down, d, seed,
              ", weights from a %s checkpoint (layout %s)" % (
                  opts.checkpoint_dtype, checkpoint[1]) if checkpoint else ""))

    failures = 0
    for T in [int(t) for t in opts.tokens.split(",")]:
        x = torch.randn(1, T, d, generator=generator)
        with torch.no_grad():
            expected = hidden_output(block(x), T)
        work = os.path.join(opts.work, "t%d" % T)
        os.makedirs(work, exist_ok=True)
        # The tokens are argument 0; the weights follow, unless the
        # checkpoint gives them.
        arrays = [np32(x[0])] + ([] if checkpoint else weights)
        for i, array in enumerate(arrays):
            save(os.path.join(work, "arg%d.npy" % i), array)
        save(os.path.join(work, "oracle.npy"), np32(expected))
        command = ["moe-run", layer, "--runs=1", "--inputs=" + work,
                   "--expect=" + os.path.join(work, "oracle.npy")]
        if checkpoint:
            command += ["--weights=" + checkpoint[0],
                        "--weights-layout=" + checkpoint[1]]
        run = subprocess.run(command, capture_output=True, text=True)
        check = [line.strip() for line in run.stdout.splitlines()
                 if line.strip().startswith("check:")]
        status = "PASS" if run.returncode == 0 else "FAIL"
        print("  T=%d: %s %s" % (T, check[0] if check else
                                 (run.stderr.strip() or run.stdout.strip()),
                                 "" if check else status))
        failed = run.returncode != 0
        if opts.statistics and not failed:
            ok, text = compare_statistics(run.stdout, x[0], weights[0], block)
            print("  T=%d: %s" % (T, text))
            failed = not ok
        failures += failed
    print("%s: %d of %d token counts match" % (
        opts.preset, len(opts.tokens.split(",")) - failures,
        len(opts.tokens.split(","))))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
