#!/usr/bin/python3
"""Writes the TorchScript models the CLI tests need into OUT_DIR (deterministic, a few seconds):
plain.pt      torchvision mobilenet_v3_small, seeded random weights, no embedded spec
tuple_out.pt  image model returning a tuple of two tensors, with an embedded spec
raises.pt     image model whose forward always raises
flat_view.pt  RGB image model that views its input as rows (fails on channels-last memory)
noisy.pt      image model that adds fresh noise to every answer (no two forwards agree)
optional_out.pt  image model returning a NamedTuple (scores, None), warning in every forward,
              as torchvision's scripted GoogLeNet and Inception v3 do in eval mode
"""
import sys
import warnings
from typing import NamedTuple, Optional

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)

net = torchvision.models.mobilenet_v3_small(weights=None).eval()
torch.jit.save(torch.jit.script(net), f"{out}/plain.pt")

SPEC = """name: {name}
input: {{type: image, mode: L}}
preprocess:
  - Resize: {{size: [8, 8]}}
  - ToTensor: {{}}
postprocess:
  - Raw: {{}}
"""


class TupleOut(torch.nn.Module):
    def forward(self, x: torch.Tensor):
        return x.mean(dim=[1, 2, 3]).unsqueeze(1), x.flatten(1)[:, :4]


class Raises(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 0:
            raise RuntimeError("this model always fails")
        return x


class FlatView(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(3 * 8 * 8, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), -1) @ self.weight


class Noisy(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :4] + torch.rand(x.size(0), 4)


class Outputs(NamedTuple):
    scores: torch.Tensor
    aux: Optional[torch.Tensor]


class OptionalOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Outputs:
        warnings.warn("OptionalOut always returns an Outputs tuple")
        return Outputs(x.flatten(1)[:, :3] * 2, None)


torch.jit.save(torch.jit.script(FlatView().eval()), f"{out}/flat_view.pt",
               _extra_files={"ptjs.yaml": SPEC.format(name="flat_view").replace("mode: L", "mode: RGB")})
torch.jit.save(torch.jit.script(Noisy()), f"{out}/noisy.pt", _extra_files={"ptjs.yaml": SPEC.format(name="noisy")})
torch.jit.save(torch.jit.script(TupleOut()), f"{out}/tuple_out.pt", _extra_files={"ptjs.yaml": SPEC.format(name="tuple_out")})
torch.jit.save(torch.jit.script(Raises()), f"{out}/raises.pt", _extra_files={"ptjs.yaml": SPEC.format(name="raises")})
torch.jit.save(torch.jit.script(OptionalOut()), f"{out}/optional_out.pt",
               _extra_files={"ptjs.yaml": SPEC.format(name="optional_out")})
