#!/usr/bin/env python3
"""Independent float64 reference for codealign's preference losses, written from the papers:
DPO (Rafailov et al. 2023, eq. 7) with cDPO label smoothing and DPOP's penalty (Pal et al. 2024,
eq. 3), DPO on per-token log-ratios (Tülu 3's dpo_norm), robust DPO (Chowdhury et al.
2024, eq. 8), hinge (SLiC, Zhao et al. 2023), IPO (Azar et al. 2023, eq. 17, on per-token
averages), SimPO (Meng et al. 2024, eq. 6) and the RPO NLL term (Pang et al. 2024; averaged over all
chosen tokens of the batch, as TRL does).
Input (argv[1], JSON): a list of cases, each a config and per-pair arrays. Output: for each
case, the loss and its gradients with respect to the policy's chosen and rejected log-probs."""
import json
import sys

import torch


def logsigmoid(x):
    return torch.nn.functional.logsigmoid(x)


def loss(cfg, pc, pr, rc, rr, nc, nr):
    beta, eps = cfg["beta"], cfg["label_smoothing"]
    chosen_logps = pc
    kind = cfg["loss_type"]
    if kind == "simpo":
        h = pc / nc - pr / nr - cfg["simpo_gamma"] / beta
        out = -logsigmoid(beta * h) * (1 - eps) - logsigmoid(-beta * h) * eps
    else:
        if kind in ("ipo", "sigmoid_norm"):
            pc, pr, rc, rr = pc / nc, pr / nr, rc / nc, rr / nr
        h = (pc - rc) - (pr - rr) - cfg["dpop_lambda"] * torch.clamp(rc - pc, min=0)
        if kind in ("sigmoid", "sigmoid_norm"):
            out = -(1 - eps) * logsigmoid(beta * h) - eps * logsigmoid(-beta * h)
        elif kind == "robust":
            out = (-(1 - eps) * logsigmoid(beta * h) + eps * logsigmoid(-beta * h)) / (1 - 2 * eps)
        elif kind == "hinge":
            out = torch.clamp(1 - beta * h, min=0)
        elif kind == "ipo":
            out = (h - 1 / (2 * beta)) ** 2
    total = out.mean()
    if cfg["rpo_alpha"] > 0:
        # the NLL of the chosen answers over all their tokens (TRL's "sft" term)
        total = total + cfg["rpo_alpha"] * (-chosen_logps.sum() / nc.sum())
    return total


def solve(data):
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in data.items() if k != "config"}
    pc = t["chosen"].clone().requires_grad_(True)
    pr = t["rejected"].clone().requires_grad_(True)
    value = loss(data["config"], pc, pr, t["reference_chosen"], t["reference_rejected"],
                 t["chosen_tokens"], t["rejected_tokens"])
    value.backward()
    return {"loss": value.item(), "grad_chosen": pc.grad.tolist(), "grad_rejected": pr.grad.tolist()}


def main():
    json.dump([solve(case) for case in json.load(open(sys.argv[1]))], sys.stdout)


if __name__ == "__main__":
    main()
