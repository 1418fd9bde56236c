#!/usr/bin/python3
"""Writes OUT_DIR/slow_digits.pt and slow_digits.yaml: the bundled digits model, answering
exactly as it does, after some busy work that depends on the input (so that freezing cannot
fold it away) and takes about MS milliseconds per image on one thread. The Slurm test needs a
task slow enough to cancel in the middle.

usage: make_slow_digits.py OUT_DIR [MS]   (Debian's /usr/bin/python3, torch 1.13)
"""
import os
import sys
import time

import torch

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIGITS = os.path.join(SRC, "configs", "digits")


class SlowDigits(torch.nn.Module):
    def __init__(self, inner, rounds: int):
        super().__init__()
        self.inner = inner
        self.rounds = rounds
        self.w = torch.nn.Parameter(torch.randn(160, 160) / 16, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        a = self.w * x.flatten(1)[:, :1].sum()
        for _ in range(self.rounds):
            a = torch.tanh(a @ self.w)
        return y + 0 * a.sum()


def main(out, ms):
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    inner = torch.jit.load(os.path.join(DIGITS, "model.pt")).eval()
    x = torch.rand(1, 1, 28, 28)
    rounds = 50
    probe = torch.jit.script(SlowDigits(inner, rounds))
    probe(x)
    start = time.perf_counter()
    for _ in range(5):
        probe(x)
    per_round = (time.perf_counter() - start) / 5 / rounds
    rounds = max(1, int(ms / 1000 / per_round))
    model = torch.jit.script(SlowDigits(inner, rounds))
    assert torch.equal(model(x), inner(x))
    torch.jit.save(model, os.path.join(out, "slow_digits.pt"))
    with open(os.path.join(DIGITS, "model.yaml")) as f:
        spec = f.read()
    spec = spec.replace("name: digits", "name: slow_digits").replace("model: model.pt", "model: slow_digits.pt")
    spec = spec.replace("labels: labels.txt", "labels: " + os.path.join(DIGITS, "labels.txt"))
    with open(os.path.join(out, "slow_digits.yaml"), "w") as f:
        f.write(spec)
    print(f"slow_digits: {rounds} rounds, about {ms} ms per image")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 40)
