"""Loads a problem written by bench/cells-torch-check.ts into nn.LSTM / nn.GRU + nn.Linear, by the
tensor names of our layout table, and prints the summed cross-entropy and the final state as JSON.
Dropout masks are fixed: each layer runs as its own one-layer module, and its output is multiplied
by the mask on the way up (to the next layer, or to the output layer)."""
import json
import sys

import torch

torch.set_default_dtype(torch.float64)
p = json.load(sys.stdin)
cell, L, H, K, T = p["cell"], p["L"], p["H"], p["K"], p["T"]
tensors = {t["name"]: torch.tensor(t["values"]).reshape(t["shape"]) for t in p["tensors"]}
ids = torch.tensor(p["ids"])
state = torch.tensor(p["state"])
masks = None if p["masks"] is None else torch.tensor(p["masks"]).reshape(L, T, H)

x = torch.nn.functional.one_hot(ids[:T], K).to(torch.float64).unsqueeze(1)  # (T, 1, K)
finals_h, finals_c = [], []
with torch.no_grad():
    for l in range(L):
        module = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(x.shape[2], H, 1)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(module, f"{kind}_l0").copy_(tensors[f"{kind}_l{l}"])
        h0 = state[l * H:(l + 1) * H].reshape(1, 1, H)
        if cell == "lstm":
            c0 = state[(L + l) * H:(L + l + 1) * H].reshape(1, 1, H)
            out, (hn, cn) = module(x, (h0, c0))
            finals_c.append(cn.flatten())
        else:
            out, hn = module(x, h0)
        finals_h.append(hn.flatten())
        x = out if masks is None else out * masks[l].unsqueeze(1)
    linear = torch.nn.Linear(H, K)
    linear.weight.copy_(tensors["V"])
    linear.bias.copy_(tensors["c"])
    logits = linear(x.squeeze(1))
    loss = torch.nn.functional.cross_entropy(logits, ids[1:T + 1], reduction="sum")
print(json.dumps({"loss": loss.item(), "finalState": torch.cat(finals_h + finals_c).tolist()}))
