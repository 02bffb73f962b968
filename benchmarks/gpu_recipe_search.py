"""Boolean-16 held-out generalisation: many recipes x many seeds in one packed run (GPU or CPU).

A search script, not part of the book: it informs which recipe the Boolean chapter trains. All recipes
share the architecture (6 units, forget gate) and batch size, so they are packed into one
:class:`~l2l_lib.packed.PackedMetaLSTM`; per-seed learning rates and clipping are applied by a
hand-written Adam (Adam is element-wise, so a per-entry learning rate is exact). Data are drawn on the
device, per recipe group, from the training functions only; held-out functions are only evaluated.

Usage: python benchmarks/gpu_recipe_search.py --seconds 360 --out results.json [--device cuda]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

from l2l_lib.model import MetaLSTM
from l2l_lib.packed import PackedMetaLSTM

HELD_OUT = (0, 6, 9)
TRAIN = tuple(k for k in range(16) if k not in HELD_OUT)
ALL_RECIPES = {  # name: (learning rate, grad clip per seed or None, switch_every or None, table fraction[, noise])
    "lr1e-2": (1e-2, None, None, 0.0),
    "lr1e-2_clip1": (1e-2, 1.0, None, 0.0),
    "lr2e-2_clip1": (2e-2, 1.0, None, 0.0),
    "lr5e-3_clip1": (5e-3, 1.0, None, 0.0),
    "lr1e-2_switch64": (1e-2, None, 64, 0.0),
    "lr1e-2_clip1_switch128": (1e-2, 1.0, 128, 0.0),
    # Half the training streams are random *real-valued* lookup tables (an output ~ U[0, 1] per input
    # pattern, drawn per stream): no Boolean function, so no held-out one, but a stream that can only
    # be predicted by storing each pattern's answer, never by recognising one of 13 known functions.
    "lr1e-2_tables50": (1e-2, None, None, 0.5),
    "lr1e-2_clip1_tables50": (1e-2, 1.0, None, 0.5),
    "lr1e-2_tables25": (1e-2, None, None, 0.25),
    "lr2e-2_clip1_tables50": (2e-2, 1.0, None, 0.5),
    # A fifth entry: Gaussian noise of that sd on the fed-back target y_prev, in training only. A noisy
    # 0/1 target looks less unlike a table's real value, and a recogniser must be less sure of its bets.
    "lr1e-2_noise10": (1e-2, None, None, 0.0, 0.1),
    "lr2e-2_clip1_tables50_noise10": (2e-2, 1.0, None, 0.5, 0.1),
}
RECIPES = dict(list(ALL_RECIPES.items())[:6])  # the set the first H100 search ran


def boolean_batch(functions: torch.Tensor, n: int, seq_len: int, switch_every: int | None,
                  generator: torch.Generator, device: torch.device, table_fraction: float = 0.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """inputs [n, T, 3], targets [n, T, 1] of Boolean streams (a ``table_fraction`` of them random
    real-valued tables), drawn on ``device``."""
    seg = switch_every or seq_len
    n_seg = -(-seq_len // seg)
    choice = torch.randint(len(functions), (n, n_seg), generator=generator, device=device)
    ids = functions[choice].repeat_interleave(seg, dim=1)[:, :seq_len]
    x = torch.randint(0, 2, (n, seq_len, 2), generator=generator, device=device)
    y = ((ids >> (2 * x[..., 0] + x[..., 1])) & 1).float().unsqueeze(-1)
    if table_fraction > 0:
        tables = torch.rand(n, 4, generator=generator, device=device)  # one real output per pattern
        real = tables.gather(1, 2 * x[..., 0] + x[..., 1]).unsqueeze(-1)
        use = torch.rand(n, 1, 1, generator=generator, device=device) < table_fraction
        y = torch.where(use, real, y)
    y_prev = torch.cat([torch.zeros(n, 1, 1, device=device), y[:, :-1]], dim=1)
    return torch.cat([x.float(), y_prev], dim=-1), y


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=16, help="seeds per recipe")
    parser.add_argument("--seconds", type=float, default=300, help="training time budget")
    parser.add_argument("--max-steps", type=int, default=40_000)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default="recipe_search.json")
    parser.add_argument("--recipes", nargs="*", choices=list(ALL_RECIPES), default=list(RECIPES))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    recipes = {name: ALL_RECIPES[name] for name in args.recipes}
    device = torch.device(args.device)
    names = list(recipes)
    n_seeds = len(names) * args.seeds
    models = []
    for r in range(len(names)):
        for s in range(args.seeds):
            torch.manual_seed(s)  # seed s starts from the same weights under every recipe
            models.append(MetaLSTM((6,)))
    net = PackedMetaLSTM(models).to(device)
    owners = {k: v.to(device) for k, v in net.owners().items()}
    recipe_of_seed = torch.arange(n_seeds, device=device) // args.seeds
    lr = torch.tensor([recipes[n][0] for n in names], device=device)[recipe_of_seed]
    clip = torch.tensor([recipes[n][1] or math.inf for n in names], device=device)[recipe_of_seed]
    params = dict(net.named_parameters())
    moments = {k: (torch.zeros_like(p), torch.zeros_like(p)) for k, p in params.items()}
    gen = torch.Generator(device=device).manual_seed(1234)
    train_f = torch.tensor(TRAIN, device=device)
    held_f = torch.tensor(HELD_OUT, device=device)
    eval_gen = torch.Generator(device=device).manual_seed(99)
    held_in, held_y = boolean_batch(held_f, 256, args.seq_len, None, eval_gen, device)
    val_in, val_y = boolean_batch(train_f, 256, args.seq_len, None, eval_gen, device)
    log = {"recipes": recipes, "seeds_per_recipe": args.seeds, "held_out": HELD_OUT, "steps": [], "val": [],
           "held": [], "device": str(device), "seq_len": args.seq_len, "batch": args.batch}
    start, step = time.time(), 0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    while step < args.max_steps and time.time() - start < args.seconds:
        inputs, targets = [], []
        for name in names:  # every seed its own data: seeds x batch streams per recipe
            inp, tgt = boolean_batch(train_f, args.seeds * args.batch, args.seq_len, recipes[name][2], gen, device,
                                     table_fraction=recipes[name][3])
            noise = recipes[name][4] if len(recipes[name]) > 4 else 0.0
            if noise > 0:  # on the fed-back target only; evaluation streams stay clean
                inp[..., 2] += noise * torch.randn(inp.shape[:-1], generator=gen, device=device)
            inputs.append(inp.reshape(args.seeds, args.batch, args.seq_len, 3))
            targets.append(tgt.reshape(args.seeds, args.batch, args.seq_len, 1))
        inputs = torch.cat(inputs).permute(1, 2, 0, 3)  # [B, T, S, 3]
        targets = torch.cat(targets).permute(1, 2, 0, 3)
        per_seed = ((net(inputs) - targets) ** 2).mean(dim=(0, 1, 3))
        for p in params.values():
            p.grad = None
        per_seed.sum().backward()
        step += 1
        with torch.no_grad():
            sq = torch.zeros(n_seeds, device=device)
            for k, p in params.items():
                own = owners[k]
                mask = own >= 0
                sq.index_add_(0, own[mask], p.grad[mask] ** 2)
            coef = (clip / (sq.sqrt() + 1e-6)).clamp(max=1.0)
            for k, p in params.items():
                own = owners[k]
                g = p.grad * torch.where(own >= 0, coef[own.clamp(min=0)], 0.0)
                m, v = moments[k]
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                step_lr = torch.where(own >= 0, lr[own.clamp(min=0)], 0.0)
                p -= step_lr * (m / (1 - beta1 ** step)) / ((v / (1 - beta2 ** step)).sqrt() + eps)
            if step % args.eval_every == 0:
                def mse(x, y):
                    return ((net(x.unsqueeze(2).expand(-1, -1, n_seeds, -1)) -
                             y.unsqueeze(2).expand(-1, -1, n_seeds, -1)) ** 2).mean(dim=(0, 1, 3))
                log["steps"].append(step)
                log["val"].append(mse(val_in, val_y).tolist())
                log["held"].append(mse(held_in, held_y).tolist())
                best = {n: round(min(log["held"][-1][i * args.seeds:(i + 1) * args.seeds]), 4)
                        for i, n in enumerate(names)}
                print(f"step {step} t={time.time() - start:.0f}s best held-out per recipe {best}", flush=True)
    log["seconds"] = time.time() - start
    log["total_steps"] = step
    with open(args.out, "w") as f:
        json.dump(log, f)
    floor = (1 - 0.75 ** args.seq_len) / args.seq_len
    for i, name in enumerate(names):
        final = log["held"][-1][i * args.seeds:(i + 1) * args.seeds] if log["held"] else []
        ok = sum(v <= 1.1 * floor for v in final)
        print(f"{name}: final held-out {sorted(round(v, 4) for v in final)} -> {ok}/{len(final)} <= 1.1x floor")


if __name__ == "__main__":
    main()
