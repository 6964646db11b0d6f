#!/usr/bin/python3
"""The PyTorch side of the quality race: a character-level language model as a PyTorch user
writes it (nn.Embedding, nn.LSTM or nn.GRU with L layers, nn.Linear head, Adam, clip_grad_norm_),
B contiguous streams with the state carried (detached) between sequences of T characters, as
char-rnn and torch-rnn train. It trains for --seconds of training time (evaluations not counted)
and every --eval-every seconds prints the validation loss measured as bench/quality.ts measures
ours: the whole held-out text, encoded with the training text's vocabulary with unknown characters
skipped, read as ONE stream from a zero state, in nats per character.

    python3 bench/peers/torch_race.py --train sotu_train.txt --val sotu_val.txt --cell gru \
        --layers 2 --hidden 128 --streams 32 --seq-length 50 --lr 2e-3 --threads 2 --seconds 300

Output: one JSON line of the configuration, then {"t": training seconds, "chars": n, "val": nats/char}
lines.
"""
import argparse
import json
import os
import sys
import time

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, THREADS)  # before torch loads its libraries
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--streams", type=int, default=32)
    p.add_argument("--seq-length", type=int, default=50)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip-norm", type=float, default=5.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--eval-every", type=float, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = getattr(torch, a.dtype)

    text = open(a.train, encoding="utf-8").read()
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    K = len(vocab)
    data = torch.tensor([index[c] for c in text])
    val = torch.tensor([index[c] for c in open(a.val, encoding="utf-8").read() if c in index])
    B, T = a.streams, a.seq_length
    length = len(data) // B
    streams = data[: length * B].view(B, length)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(K, a.hidden)
            rnn = nn.LSTM if a.cell == "lstm" else nn.GRU
            self.rnn = rnn(a.hidden, a.hidden, a.layers, batch_first=True, dropout=a.dropout if a.layers > 1 else 0)
            self.drop = nn.Dropout(a.dropout)
            self.head = nn.Linear(a.hidden, K)

        def forward(self, x, state=None):
            y, state = self.rnn(self.embed(x), state)
            return self.head(self.drop(y)), state

    model = Model().to(dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    def detach(state):
        return None if state is None else tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    @torch.no_grad()
    def validate():
        model.eval()
        state, total = None, 0.0
        for start in range(0, len(val) - 1, 4096):
            x = val[start : start + 4097]
            out, state = model(x[:-1].view(1, -1), state)
            total += nn.functional.cross_entropy(out.view(-1, K), x[1:], reduction="sum").item()
        model.train()
        return total / (len(val) - 1)

    print(json.dumps({"config": vars(a), "K": K, "params": sum(t.numel() for t in model.parameters()), "torch": torch.__version__}), flush=True)
    state, position, chars, trained, next_eval = None, 0, 0, 0.0, a.eval_every
    while trained < a.seconds:
        started = time.perf_counter()
        if position + T + 1 > length:
            position, state = 0, None  # a new epoch starts every stream from a zero state
        x = streams[:, position : position + T]
        y = streams[:, position + 1 : position + T + 1]
        position += T
        out, state = model(x, state)
        state = detach(state)
        loss = loss_fn(out.reshape(-1, K), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)
        optimizer.step()
        chars += B * T
        trained += time.perf_counter() - started
        if trained >= next_eval or trained >= a.seconds:
            print(json.dumps({"t": round(trained, 2), "chars": chars, "val": round(validate(), 4)}), flush=True)
            next_eval += a.eval_every


if __name__ == "__main__":
    main()
