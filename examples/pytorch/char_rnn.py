"""A model written by `char-rnn export --format safetensors`, as a PyTorch module.

    python3 char_rnn.py score DIR TEXTFILE [--json] [--dtype float64|float32]
    python3 char_rnn.py sample DIR [--prime S] [--length N] [--temperature X] [--seed N]

DIR holds model.safetensors and config.json. Needs torch only: the safetensors format is
read and written here (an 8-byte little-endian header length, a JSON header, raw data).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
from pathlib import Path

import torch
from torch import nn

CONFIG_FORMAT = "parallel-char-rnn/1"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
DTYPES = {"float64": torch.float64, "float32": torch.float32}
FILE_DTYPES = {"F64": torch.float64, "F32": torch.float32}
CHUNK = 4096  # characters per forward pass when scoring; the state carries across chunks


class UsageError(Exception):
    """A mistake in what the user passed: printed as one line, exit status 2."""


class MGU(nn.Module):
    """The minimal gated unit as char-rnn computes it (src/model/cells/mgu.ts), under nn.GRU's
    tensor names: weight_ih_l{l} (2H, In), weight_hh_l{l} (2H, H), bias_ih_l{l}, bias_hh_l{l}
    (2H), rows f then h~. Per layer and step, on x (B, In) and h (B, H):
      f = sigmoid(W_ih[f] x + b_ih[f] + W_hh[f] h + b_hh[f])
      h~ = tanh(W_ih[h~] x + b_ih[h~] + W_hh[h~] (f * h) + b_hh[h~]),  h' = (1 - f) h + f h~
    Input (T, B, K), state (L, B, H) or None for zeros: returns the top layer's h' (T, B, H), h_n."""

    def __init__(self, K: int, H: int, L: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.dropout = H, L, dropout
        bound = 1 / math.sqrt(H)
        for l in range(L):
            shapes = {"weight_ih": (2 * H, K if l == 0 else H), "weight_hh": (2 * H, H), "bias_ih": (2 * H,), "bias_hh": (2 * H,)}
            for name, shape in shapes.items():
                setattr(self, f"{name}_l{l}", nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        T, B, H = x.shape[0], x.shape[1], self.hidden_size
        hs = [torch.zeros(B, H, dtype=x.dtype) if state is None else state[l] for l in range(self.num_layers)]
        outs = []
        for t in range(T):
            inp = x[t]
            for l in range(self.num_layers):
                w_ih, w_hh = getattr(self, f"weight_ih_l{l}"), getattr(self, f"weight_hh_l{l}")
                b_ih, b_hh = getattr(self, f"bias_ih_l{l}"), getattr(self, f"bias_hh_l{l}")
                gi = nn.functional.linear(inp, w_ih, b_ih)
                f = torch.sigmoid(gi[:, :H] + nn.functional.linear(hs[l], w_hh[:H], b_hh[:H]))
                candidate = torch.tanh(gi[:, H:] + nn.functional.linear(f * hs[l], w_hh[H:], b_hh[H:]))
                hs[l] = (1 - f) * hs[l] + f * candidate
                inp = hs[l]
                if l < self.num_layers - 1:
                    inp = nn.functional.dropout(inp, self.dropout, self.training)
            outs.append(inp)
        return torch.stack(outs), torch.stack(hs)


class CharRNN(nn.Module):
    """nn.LSTM / nn.GRU / nn.RNN / MGU fed one-hot characters (T, B, K), then nn.Linear(H, K)."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        K, H, L, p = len(config["vocab"]), config["hidden"], config["layers"], config["dropout"]
        between = p if L > 1 else 0.0  # PyTorch warns about dropout on a single layer
        if config["cell"] == "lstm":
            self.rnn: nn.RNNBase = nn.LSTM(K, H, L, dropout=between)
        elif config["cell"] == "gru":
            self.rnn = nn.GRU(K, H, L, dropout=between)
        elif config["cell"] == "mgu":
            self.rnn = MGU(K, H, L, dropout=between)
        elif config["cell"] == "rnn":
            self.rnn = nn.RNN(K, H, 1, nonlinearity="tanh")
        else:
            raise UsageError(f"unknown cell {config['cell']!r}")
        # char-rnn's dropout also drops the top layer's output on its way to the decoder (training only)
        self.drop = nn.Dropout(p)
        self.decoder = nn.Linear(H, K)
        self.vocab: list[int] = list(config["vocab"])

    def forward(self, one_hot: torch.Tensor, state=None):
        out, state = self.rnn(one_hot, state)
        return self.decoder(self.drop(out)), state

    def one_hot(self, ids: torch.Tensor) -> torch.Tensor:
        """(T, B) or (T,) character ids as (T, B, K) or (T, K) inputs of the model's dtype."""
        return nn.functional.one_hot(ids, len(self.vocab)).to(self.decoder.weight.dtype)


# --- safetensors ----------------------------------------------------------------------------

def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in FILE_DTYPES:
            raise UsageError(f"{path}: tensor {name} is {entry['dtype']}; only F64 and F32 are read")
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])  # a copy: frombuffer wants writable memory
        tensor = torch.frombuffer(raw, dtype=FILE_DTYPES[entry["dtype"]])
        tensors[name] = tensor.reshape(entry["shape"])
    return tensors


def write_safetensors(tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, tensor in tensors.items():
        blob = tensor.detach().cpu().contiguous().numpy().tobytes()
        code = {torch.float64: "F64", torch.float32: "F32"}[tensor.dtype]
        header[name] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- load, save -----------------------------------------------------------------------------

def read_config(folder: str | Path) -> dict:
    path = Path(folder) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path} not found (pass a folder written by 'char-rnn export')") from None
    if config.get("format") != CONFIG_FORMAT:
        raise UsageError(f"{path}: format is {config.get('format')!r}, not {CONFIG_FORMAT!r}")
    return config


def load(folder: str | Path, dtype: torch.dtype = torch.float64) -> tuple[CharRNN, dict]:
    """The model in folder (config.json + model.safetensors) in dtype, in eval mode, and its config."""
    config = read_config(folder)
    model = CharRNN(config).to(dtype)
    tensors = read_safetensors(Path(folder) / MODEL_FILE)
    model.load_state_dict({name: t.to(dtype) for name, t in tensors.items()}, strict=True)
    return model.eval(), config


def save(model: CharRNN, config: dict, folder: str | Path) -> None:
    """Writes folder/model.safetensors (in the model's dtype) and folder/config.json, each by rename."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, write in ((MODEL_FILE, lambda p: write_safetensors(model.state_dict(), p)),
                        (CONFIG_FILE, lambda p: p.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8"))):
        temp = folder / f".{name}.{os.getpid()}.tmp"
        write(temp)
        os.replace(temp, folder / name)


# --- text -----------------------------------------------------------------------------------

def describe(code_point: int) -> str:
    return f"{chr(code_point)!r} (U+{code_point:04X})"


def encode(text: str, vocab: list[int], what: str) -> torch.Tensor:
    """The text's characters as ids into vocab; a character outside it is a UsageError naming it."""
    index = {cp: k for k, cp in enumerate(vocab)}
    unknown = sorted({ord(c) for c in text} - index.keys())
    if unknown:
        shown = ", ".join(describe(cp) for cp in unknown[:10])
        raise UsageError(f"{what} has {len(unknown)} character(s) not in the model's vocabulary: {shown}")
    return torch.tensor([index[ord(c)] for c in text], dtype=torch.long)


@torch.no_grad()
def score(model: CharRNN, ids: torch.Tensor) -> float:
    """Mean -ln p over ids[1:], read as one stream from a zero state, as `char-rnn eval` scores."""
    if len(ids) < 2:
        raise UsageError(f"the text has {len(ids)} character(s); scoring needs at least 2")
    total, state = 0.0, None
    for start in range(0, len(ids) - 1, CHUNK):
        inputs = ids[start:start + CHUNK]
        targets = ids[start + 1:start + CHUNK + 1]
        inputs = inputs[:len(targets)]
        logits, state = model(model.one_hot(inputs).unsqueeze(1), state)
        loss = nn.functional.cross_entropy(logits.squeeze(1).double(), targets, reduction="sum")
        total += loss.item()
    return total / (len(ids) - 1)


@torch.no_grad()
def sample(model: CharRNN, prime: str, length: int, temperature: float, generator: torch.Generator) -> str:
    """The prime, then length characters drawn one at a time, from a zero state."""
    ids = encode(prime, model.vocab, "the prime")
    hidden = model.rnn.hidden_size
    state, logits = None, model.decoder(torch.zeros(hidden, dtype=model.decoder.weight.dtype))
    if len(ids) > 0:
        out, state = model(model.one_hot(ids).unsqueeze(1), state)
        logits = out[-1, 0]
    drawn = []
    for _ in range(length):
        if temperature == 0:
            k = int(logits.argmax())
        else:
            probs = torch.softmax(logits.double() / temperature, dim=-1)
            k = int(torch.multinomial(probs, 1, generator=generator))
        drawn.append(k)
        out, state = model(model.one_hot(torch.tensor([[k]])), state)
        logits = out[-1, 0]
    return prime + "".join(chr(model.vocab[k]) for k in drawn)


# --- command line ---------------------------------------------------------------------------

def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as f:  # newline="": keep \r\n as the trainer does
            return f.read()
    except FileNotFoundError:
        raise UsageError(f"{path} not found") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 ({error.reason} at byte {error.start})") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="char_rnn.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("score", help="mean nats per character of a text, as `char-rnn eval`")
    s.add_argument("dir")
    s.add_argument("text_file")
    s.add_argument("--json", action="store_true")
    s.add_argument("--dtype", choices=DTYPES, default="float64")
    g = commands.add_parser("sample", help="text drawn from the model (torch's generator, not char-rnn's)")
    g.add_argument("dir")
    g.add_argument("--prime", default="")
    g.add_argument("--length", type=int, default=1000)
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--dtype", choices=DTYPES, default="float64")
    args = parser.parse_args(argv)

    try:
        model, _ = load(args.dir, DTYPES[args.dtype])
        if args.command == "score":
            ids = encode(read_text(args.text_file), model.vocab, args.text_file)
            nats = score(model, ids)
            if args.json:
                print(json.dumps({"characters": len(ids), "predictions": len(ids) - 1, "natsPerChar": nats, "bitsPerChar": nats / math.log(2)}))
            else:
                print(f"{args.text_file}: {len(ids)} characters, {nats:.4f} nats/char ({nats / math.log(2):.4f} bits/char)")
        else:
            if args.length < 0 or not (args.temperature >= 0):
                raise UsageError("--length and --temperature must not be negative")
            generator = torch.Generator()
            generator.manual_seed(args.seed) if args.seed is not None else generator.seed()
            sys.stdout.write(sample(model, args.prime, args.length, args.temperature, generator) + "\n")
    except UsageError as error:
        print(f"char_rnn.py: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
