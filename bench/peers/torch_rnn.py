#!/usr/bin/env python3
"""Character-level vanilla RNN (min-char-rnn algorithm) in PyTorch on the CPU: numpy_rnn.py's
algorithm op for op, so that the benchmark can run PyTorch beside us and beside numpy.

a_t = W h_{t-1} + U x_t + b,  h_t = tanh(a_t),  o_t = V h_t + c,  p_t = softmax(o_t)
loss = sum_t -log p_t[y_t] over 25 steps; AdaGrad (eta 0.1, eps 1e-8) on element-wise
clipped [-5, 5] gradients.  With --streams B the corpus is split into B contiguous parts,
each with its own carried hidden state; the gradient is SUMMED over streams (as numpy_rnn.py).
Gradients are written out by hand (as in numpy_rnn.py), not taken by autograd; --gradcheck
compares them with autograd on a small problem.
Row-vector layout inside: a hidden state batch is B x m, so h @ W.T == (W h)^T.

    python3 bench/peers/torch_rnn.py --streams 64 --updates 300 --threads 4 --dtype float32
prints one line: torch f32 threads=4 B=64 updates=300 chars=480000 time=...s chars/s=... smooth_loss=...
"""
import argparse, os, time
import torch

M, SEQ, ETA, EPS, SIG, CLIP = 100, 25, 0.1, 1e-8, 0.01, 5.0
NAMES = ("W", "U", "V", "b", "c")
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("PEERS_DATA", os.path.join(HERE, "../../../shared/peers/data"))


def init_params(K, gen, dtype):
    def normal(*shape):
        return SIG * torch.randn(*shape, generator=gen, dtype=torch.float64).to(dtype)
    return dict(W=normal(M, M), U=normal(M, K), V=normal(K, M),
                b=torch.zeros(M, dtype=dtype), c=torch.zeros(K, dtype=dtype))


def forward(P, X, h0):
    """X: (T, B) int64, h0: (B, m). Returns Hs (T+1, B, m) with Hs[0] = h0."""
    T, B = X.shape
    XU = P["U"].t()[X] + P["b"]              # (T, B, m): U x_t + b by column lookup
    Hs = torch.empty((T + 1, B, M), dtype=h0.dtype)
    Hs[0] = h0
    Wt = P["W"].t()
    for t in range(T):
        torch.tanh(torch.addmm(XU[t], Hs[t], Wt), out=Hs[t + 1])
    return Hs


def loss_and_grads(P, X, Y, h0):
    """Total loss (summed over steps and streams), gradients, last hidden state."""
    T, B = X.shape
    Hs = forward(P, X, h0)
    H = Hs[1:].reshape(T * B, M)
    Pr = torch.softmax(torch.addmm(P["c"], H, P["V"].t()), dim=1)
    rows, y = torch.arange(T * B), Y.reshape(-1)
    loss = -torch.log(Pr[rows, y]).sum().item()
    dO = Pr
    dO[rows, y] -= 1.0                       # dL/do_t = p_t - onehot(y_t)
    dH = (dO @ P["V"]).reshape(T, B, M)
    dA = torch.empty((T, B, M), dtype=H.dtype)
    dh_next = torch.zeros((B, M), dtype=H.dtype)
    W = P["W"]
    for t in reversed(range(T)):
        dA[t] = (dH[t] + dh_next) * (1.0 - Hs[t + 1] ** 2)
        dh_next = dA[t] @ W                  # (W^T da)^T
    dA2 = dA.reshape(T * B, M)
    dUt = torch.zeros((P["U"].shape[1], M), dtype=H.dtype)
    dUt.index_add_(0, X.reshape(-1), dA2)
    G = dict(W=dA2.t() @ Hs[:-1].reshape(T * B, M), U=dUt.t(), V=dO.t() @ H,
             b=dA2.sum(0), c=dO.sum(0))
    return loss, G, Hs[-1].clone()


def adagrad(P, G, Acc):
    for k in NAMES:
        g = G[k].clamp(-CLIP, CLIP)
        Acc[k].addcmul_(g, g)
        P[k].addcdiv_(g, (Acc[k] + EPS).sqrt(), value=-ETA)


def val_loss(P, data, h, chunk=4096):
    """Mean -log p per predicted char over data, one stream, hidden carried from h (1 x m)."""
    total = 0.0
    for s in range(0, len(data) - 1, chunk):
        X = data[s:s + chunk + 1]
        Y, X = X[1:], X[:-1]
        Hs = forward(P, X[:, None], h)
        h = Hs[-1]
        Pr = torch.softmax(torch.addmm(P["c"], Hs[1:, 0], P["V"].t()), dim=1)
        total -= torch.log(Pr[torch.arange(len(Y)), Y]).sum().item()
    return total / (len(data) - 1)


def autograd_loss(P, X, Y, h0):
    """The same loss written independently (a Python list of states), for autograd."""
    h, loss = h0, 0.0
    for t in range(X.shape[0]):
        h = torch.tanh(P["U"].t()[X[t]] + P["b"] + h @ P["W"].t())
        logp = torch.log_softmax(h @ P["V"].t() + P["c"], dim=1)
        loss = loss - logp[torch.arange(X.shape[1]), Y[t]].sum()
    return loss


def gradcheck(K, gen):
    """Hand-written gradients against autograd, float64, 3 streams, weights N(0, 0.1^2)."""
    P = {k: v * 10 for k, v in init_params(K, gen, torch.float64).items()}
    P["b"] = 0.1 * torch.randn(M, generator=gen, dtype=torch.float64)
    P["c"] = 0.1 * torch.randn(K, generator=gen, dtype=torch.float64)
    B = 3
    seq = torch.randint(0, K, (SEQ + 1, B), generator=gen)
    X, Y = seq[:-1], seq[1:]
    h0 = torch.tanh(torch.randn((B, M), generator=gen, dtype=torch.float64))
    loss, G, _ = loss_and_grads({k: v.clone() for k, v in P.items()}, X, Y, h0)
    Q = {k: v.clone().requires_grad_(True) for k, v in P.items()}
    ref = autograd_loss(Q, X, Y, h0)
    ref.backward()
    worst = abs(loss - ref.item()) / abs(ref.item())
    print(f"gradcheck loss: hand {loss:.10f} autograd {ref.item():.10f} rel err {worst:.2e}")
    for k in NAMES:
        err = (G[k] - Q[k].grad).abs().max().item()
        scale = Q[k].grad.abs().max().item()
        worst = max(worst, err / scale)
        print(f"gradcheck {k}: max|g| {scale:.2e}  max abs err {err:.2e}")
    print("gradcheck", "PASS" if worst < 1e-9 else "FAIL", f"(worst relative error {worst:.2e})")
    return worst < 1e-9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default=os.path.join(DATA, "sotu_train.txt"))
    ap.add_argument("--valfile", default=os.path.join(DATA, "sotu_val.txt"))
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--warmup", type=int, default=5, help="updates before the clock starts")
    ap.add_argument("--val", action="store_true")
    ap.add_argument("--gradcheck", action="store_true")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:                     # only allowed before any parallel work
        pass
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    torch.set_grad_enabled(False)
    text = open(a.train, encoding="utf-8").read()
    chars = sorted(set(text))
    K, ix = len(chars), {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([ix[ch] for ch in text], dtype=torch.int64)
    gen = torch.Generator().manual_seed(a.seed)
    if a.gradcheck:
        with torch.enable_grad():
            raise SystemExit(0 if gradcheck(K, gen) else 1)

    B = a.streams
    L = len(data) // B
    streams = data[:L * B].reshape(B, L)     # stream s = contiguous part s of the corpus
    P = init_params(K, gen, dtype)
    Acc = {k: torch.zeros_like(v) for k, v in P.items()}
    h, e, smooth = torch.zeros((B, M), dtype=dtype), 0, None
    t0 = None
    for u in range(a.warmup + a.updates):
        if u == a.warmup:
            t0 = time.perf_counter()
        if e + SEQ + 1 > L:                  # new epoch: rewind, reset hidden
            e, h = 0, torch.zeros((B, M), dtype=dtype)
        win = streams[:, e:e + SEQ + 1].t().contiguous()   # (T+1, B)
        loss, G, h = loss_and_grads(P, win[:-1], win[1:], h)
        adagrad(P, G, Acc)
        loss /= B                            # report per-stream 25-step loss
        smooth = loss if smooth is None else 0.999 * smooth + 0.001 * loss
        e += SEQ
    dt = time.perf_counter() - t0
    chars_done = a.updates * SEQ * B
    short = "f64" if dtype == torch.float64 else "f32"
    print(f"torch {short} threads={torch.get_num_threads()} B={B} updates={a.updates} chars={chars_done} time={dt:.2f}s "
          f"chars/s={chars_done / dt:.0f} smooth_loss={smooth:.4f}")
    if a.val:
        vt = open(a.valfile, encoding="utf-8").read()
        vdata = torch.tensor([ix[ch] for ch in vt if ch in ix], dtype=torch.int64)
        print(f"val nats/char: from_zero={val_loss(P, vdata, torch.zeros((1, M), dtype=dtype)):.4f} "
              f"from_train_h={val_loss(P, vdata, h[:1]):.4f} "
              f"(unknown chars skipped: {len(vt) - len(vdata)})")


if __name__ == "__main__":
    main()
