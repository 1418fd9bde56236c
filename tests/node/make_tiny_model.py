#!/usr/bin/python3
"""Writes OUT_DIR/tiny.pt, a TorchScript Linear(4, 3) with an embedded tensor spec, and
OUT_DIR/tiny.json with its weight and bias (the Node tests compute the expected outputs).
Deterministic; atomic (written under temporary names, then renamed), so concurrent callers
are safe. Run with Debian's /usr/bin/python3 (torch 1.13)."""
import json
import os
import sys

import torch

SPEC = """name: tiny
input: {type: tensor, shape: [-1, 4], datatype: FP32}
postprocess:
  - Raw: {}
"""


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    net = Tiny().eval()
    tmp = f".{os.getpid()}.tmp"
    torch.jit.save(torch.jit.script(net), f"{out}/tiny.pt{tmp}", _extra_files={"ptjs.yaml": SPEC})
    with open(f"{out}/tiny.json{tmp}", "w") as f:
        json.dump({"weight": net.linear.weight.tolist(), "bias": net.linear.bias.tolist()}, f)
    os.replace(f"{out}/tiny.json{tmp}", f"{out}/tiny.json")
    os.replace(f"{out}/tiny.pt{tmp}", f"{out}/tiny.pt")


if __name__ == "__main__":
    main(sys.argv[1])
