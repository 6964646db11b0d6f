#!/usr/bin/env python3
"""The PyTorch yardstick of `npm run bench -- --cells` (bench/cells.ts): trains nn.LSTM / nn.GRU
(or nn.RNN, tanh) of L layers and H units on one-hot inputs under nn.Linear(H, K), as our trainer
does, and prints how fast.

As ours: the text is cut into B contiguous streams (stream s reads ids[s*N, (s+1)*N), N = len // B,
nothing held out); each step reads T characters of every stream and predicts the next ones; the
loss is the cross-entropy summed over the T steps and averaged over the B streams; the state is
carried from one step to the next (truncated BPTT: detached) and zeroed when an epoch rewinds;
every gradient entry is clipped to [-5, 5]; torch.optim.Adagrad(lr 0.05, eps 1e-8). (Adagrad
divides by sqrt(sum) + eps where ours divides by sqrt(sum + eps): the same work.) The gradient is
autograd's, the input layer a dense one-hot product (our kernels look the column up instead).

    /usr/bin/python3 bench/peers/torch_cells_train.py --cell lstm --layers 2 --hidden 256 \\
        --streams 32 --seq-length 64 --steps 20 --threads 1 --dtype float32 --corpus FILE

warms up --warmup steps untimed, times --steps steps, and prints one JSON line:
{"chars_per_sec", "seconds", "chars", "threads", "dtype", "steps", "vocab", "params", "loss", "torch", "blas", "blas_library"}
(blas: the BLAS_INFO torch was built with; "generic" is the system's libblas.so.3, which may be the
slow reference BLAS unless OpenBLAS or MKL provides it; blas_library: the libblas file this process
mapped, read from /proc/self/maps, so that LD_LIBRARY_PATH or the system's alternative shows)
"""
import argparse
import json
import os
import re
import time

import numpy as np
import torch

ETA, EPS, CLIP = 0.05, 1e-8, 5.0


def read_ids(path):
    """The text's code points as indices into its sorted distinct code points (our vocabulary)."""
    with open(path, encoding="utf-8-sig") as f:  # a leading BOM is dropped, as our reader drops it
        text = f.read()
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    present = np.flatnonzero(np.bincount(cps))
    lookup = np.zeros(int(cps.max()) + 1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    return torch.from_numpy(lookup[cps]), len(present)


class Model(torch.nn.Module):
    def __init__(self, cell, K, H, L):
        super().__init__()
        if cell == "lstm":
            self.rnn = torch.nn.LSTM(K, H, L)
        elif cell == "gru":
            self.rnn = torch.nn.GRU(K, H, L)
        else:
            self.rnn = torch.nn.RNN(K, H, L, nonlinearity="tanh")
        self.out = torch.nn.Linear(H, K)

    def forward(self, x, state):
        y, state = self.rnn(x, state)
        return self.out(y), state


def zero_state(cell, L, B, H, dtype):
    h = torch.zeros((L, B, H), dtype=dtype)
    return (h, torch.zeros_like(h)) if cell == "lstm" else h


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cell", choices=("lstm", "gru", "rnn"), required=True)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--streams", type=int, default=32)
    ap.add_argument("--seq-length", type=int, default=64)
    ap.add_argument("--steps", type=int, required=True, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--corpus", required=True, help="UTF-8 text file")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before any parallel work
        pass
    torch.manual_seed(a.seed)
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    B, T, L, H = a.streams, a.seq_length, a.layers, a.hidden

    ids, K = read_ids(a.corpus)
    N = len(ids) // B
    if N < T + 1:
        raise SystemExit(f"the corpus is too short: {len(ids)} characters give {N} per stream, and each needs {T + 1}")
    streams = ids[:N * B].reshape(B, N)
    eye = torch.eye(K, dtype=dtype)

    model = Model(a.cell, K, H, L).to(dtype)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=ETA, eps=EPS)
    state = zero_state(a.cell, L, B, H, dtype)
    position, loss = 0, float("nan")
    started = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            started = time.perf_counter()
        if position + T + 1 > N:  # a new epoch: rewind and zero the state
            position, state = 0, zero_state(a.cell, L, B, H, dtype)
        window = streams[:, position:position + T + 1].t()  # (T+1, B)
        logits, state = model(eye[window[:-1]], state)  # one-hot (T, B, K) -> (T, B, K)
        total = torch.nn.functional.cross_entropy(logits.reshape(T * B, K), window[1:].reshape(-1), reduction="sum") / B
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        for p in model.parameters():
            p.grad.clamp_(-CLIP, CLIP)
        optimizer.step()
        state = detach(state)
        loss = total.item()
        position += T
    seconds = time.perf_counter() - started
    chars = a.steps * B * T
    print(json.dumps({
        "chars_per_sec": chars / seconds, "seconds": seconds, "chars": chars, "threads": torch.get_num_threads(),
        "dtype": a.dtype, "steps": a.steps, "vocab": K, "params": sum(p.numel() for p in model.parameters()),
        "loss": loss / T, "torch": torch.__version__, "blas": blas_info(),
        "blas_library": blas_library(),
    }))


def blas_info():
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def blas_library():
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "libblas" in line or "libopenblas" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.realpath(path) for path in paths)) or "none mapped"


if __name__ == "__main__":
    main()
