"""What the CPU's torch options do to a camera training's arithmetic: the simulator's shallow network's PPO
minibatch (forward, backward, Adam step) and the rollout's batched forward pass, in float32 channels-first (what
train.py uses), channels-last, bfloat16 autocast, and both; with 1 and 2 torch threads.

Each case runs --repeats times, interleaved so that machine noise hits them alike; medians, and each case's ratio
to float32 channels-first with the same threads. The network is racer_env's own (DeepRacerNetwork under SB3's
MultiInputPolicy heads), fed random grey 120x160 frames.

    python benchmarks/camera_torch.py [--batch 512] [--rollout-batch 32] [--repeats 5] [--layout shared|aws] [--no-bf16]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np
import torch
from gymnasium import spaces

from racer_env.training.networks import DeepRacerNetwork, policy_kwargs


def make_policy(layout: str):
    from stable_baselines3.common.policies import MultiInputActorCriticPolicy

    space = spaces.Dict({"FRONT_FACING_CAMERA": spaces.Box(0, 255, (1, 120, 160), np.uint8)})
    actions = spaces.Box(-1.0, 1.0, (2,), np.float32)
    return MultiInputActorCriticPolicy(space, actions, lambda _: 3e-4,
                                       **policy_kwargs("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", -0.69, layout))


def seconds(policy, batch: int, rollout_batch: int, channels_last: bool, bf16: bool, iters: int) -> tuple[float, float]:
    """(seconds a minibatch update, seconds a rollout forward pass), medians over ``iters``."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for extractor in (m for m in policy.modules() if isinstance(m, DeepRacerNetwork)):
        extractor._channels_last = not channels_last  # True: its first call leaves the kernels as they are
    policy = policy.to(memory_format=fmt)
    frames = torch.randint(0, 256, (batch, 1, 120, 160), dtype=torch.uint8).float().contiguous(memory_format=fmt)
    small = frames[:rollout_batch].contiguous(memory_format=fmt)
    actions = torch.rand(batch, 2) * 2 - 1
    cast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    update, forward = [], []
    for _ in range(iters):
        t0 = time.perf_counter()
        with cast:
            values, log_prob, entropy = policy.evaluate_actions({"FRONT_FACING_CAMERA": frames}, actions)
            loss = -(log_prob.float().mean()) + values.float().pow(2).mean() - 0.0 * entropy.float().mean()
        policy.optimizer.zero_grad()
        loss.backward()
        policy.optimizer.step()
        update.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with torch.no_grad(), cast:
            policy({"FRONT_FACING_CAMERA": small})
        forward.append(time.perf_counter() - t0)
    return statistics.median(update[1:]), statistics.median(forward[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--rollout-batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--layout", default="shared", choices=("shared", "aws"))
    ap.add_argument("--no-bf16", action="store_true", help="float32 only (bfloat16 is slow where the CPU lacks it)")
    args = ap.parse_args()
    cases = [("float32, channels first", False, False), ("float32, channels last", True, False),
             ("bfloat16 autocast", False, True), ("bfloat16, channels last", True, True)]
    if args.no_bf16:
        cases = cases[:2]
    results: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for name, last, bf16 in cases:
                torch.manual_seed(0)
                r = seconds(make_policy(args.layout), args.batch, args.rollout_batch, last, bf16, args.iters)
                results.setdefault((threads, name), []).append(r)
                print(f"  {threads} thread(s), {name}: update {r[0] * 1e3:.1f} ms, forward {r[1] * 1e3:.2f} ms",
                      flush=True)
    print(f"torch {torch.__version__}, layout {args.layout}, minibatch {args.batch}, rollout batch "
          f"{args.rollout_batch}; CPU capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"{'threads':>7}  {'case':<26}{'update ms':>10}{'ratio':>7}{'forward ms':>11}{'ratio':>7}")
    for threads in (1, 2):
        base_u = statistics.median(u for u, _ in results[(threads, cases[0][0])])
        base_f = statistics.median(f for _, f in results[(threads, cases[0][0])])
        for name, _, _ in cases:
            u = statistics.median(x for x, _ in results[(threads, name)])
            f = statistics.median(x for _, x in results[(threads, name)])
            print(f"{threads:>7}  {name:<26}{u * 1e3:>10.1f}{base_u / u:>6.2f}x{f * 1e3:>11.2f}{base_f / f:>6.2f}x")


if __name__ == "__main__":
    main()
