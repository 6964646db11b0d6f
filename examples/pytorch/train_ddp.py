"""Trains a char-rnn model with DistributedDataParallel, the way `char-rnn train` trains it.

    torchrun --nproc_per_node 2 train_ddp.py --corpus input.txt --out DIR [--init DIR] [options]

The text's training part (all but the last --val-frac) is cut into --streams contiguous streams;
each rank trains its own consecutive block of them. A step reads the next --seq-length characters
of every stream, carrying each stream's state from the step before (truncated BPTT); the loss is
the cross-entropy summed over the sequence and averaged over the streams; every gradient entry is
clipped to [-clip, clip]; then Adam. DIR receives model.safetensors and config.json, which
`char-rnn import --from DIR` and char_rnn.py read.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from char_rnn import CONFIG_FORMAT, DTYPES, MODEL_FILE, CharRNN, UsageError, describe, encode, load, read_text, save, score  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="train_ddp.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, help="UTF-8 text to train on")
    p.add_argument("--init", help="folder with config.json + model.safetensors to start from (else a fresh model)")
    p.add_argument("--out", required=True, help="folder to write model.safetensors and config.json into")
    p.add_argument("--cell", choices=["rnn", "lstm", "gru", "mgu"], default="gru")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--dtype", choices=DTYPES, default="float64")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--seq-length", type=int, default=50)
    p.add_argument("--streams", type=int, default=32, help="global number of streams B, split evenly across ranks")
    p.add_argument("--eta", type=float, default=2e-3)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--val-frac", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-every", type=int, default=10)
    return p.parse_args(argv)


def fresh_config(args: argparse.Namespace, text: str) -> dict:
    layers = 1 if args.cell == "rnn" else args.layers
    if args.cell == "rnn" and args.dropout > 0:
        raise UsageError("the rnn cell has one layer and takes no --dropout")
    return {"format": CONFIG_FORMAT, "cell": args.cell, "layers": layers, "hidden": args.hidden, "dropout": args.dropout,
            "dtype": args.dtype, "vocab": sorted({ord(c) for c in text}),
            "package_version": "train_ddp.py", "source_checkpoint_sha256": ""}


@torch.no_grad()
def init_as_char_rnn(model: CharRNN) -> None:
    """Our trainer's starting distribution (drawn by torch's generator, so not its numbers)."""
    rnn, H = model.rnn, model.rnn.hidden_size
    if isinstance(rnn, nn.RNN):  # the vanilla rnn: N(0, 0.01^2) weights, zero biases
        for name, p in model.named_parameters():
            p.normal_(0, 0.01) if "weight" in name else p.zero_()
        return
    for p in model.parameters():
        p.uniform_(-1 / math.sqrt(H), 1 / math.sqrt(H))
    rnn.weight_ih_l0.mul_(math.sqrt(H))  # one-hot inputs: U(-1, 1), the scale an embedding would give
    if isinstance(rnn, nn.LSTM):  # forget gates open: bias_ih's f rows 1, bias_hh's 0
        for layer in range(rnn.num_layers):
            getattr(rnn, f"bias_ih_l{layer}")[H:2 * H] = 1
            getattr(rnn, f"bias_hh_l{layer}")[H:2 * H] = 0


def build(args: argparse.Namespace, text: str) -> tuple[CharRNN, dict]:
    """The model to train and the config to save with it: --init's, or a fresh one."""
    if args.init is None:
        torch.manual_seed(args.seed)  # every rank draws the same weights (DDP would broadcast rank 0's anyway)
        config = fresh_config(args, text)
        model = CharRNN(config)
        init_as_char_rnn(model)
    else:
        model, config = load(args.init)
        model.train()
        model_file = Path(args.init) / MODEL_FILE
        config = {**config, "dtype": args.dtype, "package_version": "train_ddp.py",
                  "source_checkpoint_sha256": hashlib.sha256(model_file.read_bytes()).hexdigest()}
    if config["cell"] == "rnn" and args.dtype != "float64":
        raise UsageError("the rnn cell computes in float64 only (char-rnn import refuses another dtype for it)")
    return model.to(DTYPES[args.dtype]), config


def stream_plan(n: int, args: argparse.Namespace, world: int) -> tuple[int, int]:
    """(training characters, characters per stream L), checked as char-rnn checks them."""
    if args.streams % world != 0:
        raise UsageError(f"--streams {args.streams} does not split evenly across {world} ranks")
    train_length = n - math.floor(n * args.val_frac)
    L = train_length // args.streams
    if L < args.seq_length + 1:
        raise UsageError(f"the corpus is too short: {train_length} training characters give {L} per stream, "
                         f"and each stream needs at least {args.seq_length + 1}")
    return train_length, L


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def train(args: argparse.Namespace, rank: int, world: int, device: torch.device) -> None:
    text = read_text(args.corpus)
    model, config = build(args, text)
    missing = sorted({ord(c) for c in text} - set(config["vocab"]))
    if missing:
        shown = ", ".join(describe(cp) for cp in missing[:10])
        raise UsageError(f"{args.corpus} has {len(missing)} character(s) not in the vocabulary of --init {args.init}: {shown}")
    ids = encode(text, config["vocab"], args.corpus)
    train_length, L = stream_plan(len(ids), args, world)
    val_ids = ids[train_length:]
    B, T = args.streams // world, args.seq_length
    starts = torch.tensor([(rank * B + s) * L for s in range(B)])  # this rank's streams, in the global order

    model.to(device)
    torch.manual_seed(args.seed + rank)  # each rank's own dropout masks
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.eta, betas=(args.beta1, args.beta2), eps=args.eps)

    def validate(when: str) -> None:
        if rank == 0 and len(val_ids) >= 2:
            print(f"validation {when}: {score(model.eval(), val_ids.to(device)):.6f} nats/char", flush=True)
            model.train()

    validate("before")
    ids = ids.to(device)
    position, state = 0, None
    for step in range(1, args.steps + 1):
        if position + T + 1 > L:  # the next epoch starts every stream again, from zero states
            position, state = 0, None
        at = (starts.to(device) + position).unsqueeze(0) + torch.arange(T + 1, device=device).unsqueeze(1)  # (T+1, B)
        window = ids[at]
        logits, state = ddp(model.one_hot(window[:-1]), state)
        loss = nn.functional.cross_entropy(logits.reshape(T * B, -1), window[1:].reshape(-1), reduction="sum") / B
        optimizer.zero_grad()
        loss.backward()  # DDP averages over the ranks: the mean over all streams' gradients
        for p in model.parameters():
            p.grad.clamp_(-args.clip, args.clip)
        optimizer.step()
        state, position = detach(state), position + T
        if step % args.log_every == 0 or step == 1 or step == args.steps:
            mean = loss.detach().clone()
            dist.all_reduce(mean)
            if rank == 0:
                print(f"step {step}/{args.steps}: loss {mean.item() / world / T:.6f} nats/char", flush=True)
    validate("after")
    if rank == 0:
        save(model.cpu(), config, args.out)
        print(f"wrote {args.out}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    try:
        train(args, rank, world, device)
    except UsageError as error:
        if rank == 0:  # every rank finds the same mistake: say it once
            print(f"train_ddp.py: {error}", file=sys.stderr, flush=True)
        return 2
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
