#!/usr/bin/python3
"""Export TorchScript models with seeded random weights, for tests and benchmarks.

  --arch NAME      any torchvision.models classifier (resnet18, mobilenet_v3_small, ...),
                   torch.jit.script'ed, forward(x: [N,3,H,W]) -> [N,1000] logits. Random
                   init alone gives mobilenets/efficientnets constant outputs (activations
                   vanish), so BatchNorm statistics are set from one seeded noise batch and
                   the last Linear is scaled to logits of std 1: outputs then vary by image
                   and top-5 scores are well apart.
                   --embed-preset embeds ptjs.yaml with the ImageClassification preset
                   (resize 256, crop 224) and Softmax + TopK 5; without it, no spec.
  --tiny           forward(x: [N,4]) -> [N,3]: x @ W.T + b with the fixed weights below.
  --multi-output   forward(x: [N,4]) -> (x @ W.T + b [N,3], x.sum(1, keepdim=True) [N,1]).
  --failing        like --tiny, but forward raises RuntimeError("ptjs test model: negative
                   input") when any element of x is < 0 (zeros, e.g. a warm-up, pass).
The last three embed `input: {type: tensor, shape: [-1, 4], datatype: FP32}` and
`postprocess: [Raw]`. Deterministic: same flags, byte-identical file.
"""
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":  # TorchScript code order follows str hashes
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import argparse  # noqa: E402
from typing import Tuple  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchvision_cpu import import_torchvision  # noqa: E402

torchvision = import_torchvision()
from torch import nn  # noqa: E402

W = [[1.0, 2.0, 3.0, 4.0], [-1.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.5, 0.5]]
B = [0.0, 1.0, -1.0]
TENSOR_SPEC = """\
name: {name}
input: {{type: tensor, shape: [-1, 4], datatype: FP32}}
postprocess:
  - Raw: {{}}
"""
PRESET_SPEC = """\
name: {name}
input: {{type: image, mode: RGB}}
preprocess: {{preset: ImageClassification, crop_size: 224, resize_size: 256}}
postprocess:
  - Softmax: {{dim: 1}}
  - TopK: {{k: 5}}
"""


def calibrate(model, seed):
    """BatchNorm running stats from one noise batch; last Linear scaled to logit std 1."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 3, 224, 224, generator=gen) * 4 - 2  # about a normalized image's range
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # cumulative average: one batch sets the stats exactly
    with torch.no_grad():
        model.train()(x)
        std = model.eval()(x).std()
        last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        last.weight /= std
        last.bias /= std
    return model


def fixed_linear():
    lin = nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(W))
        lin.bias.copy_(torch.tensor(B))
    return lin


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = fixed_linear()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class MultiOutput(Tiny):
    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.linear(x), x.sum(dim=1, keepdim=True)


class Failing(Tiny):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise RuntimeError("ptjs test model: negative input")
        return self.linear(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    kind = ap.add_mutually_exclusive_group(required=True)
    kind.add_argument("--arch", help="torchvision.models name, e.g. resnet18")
    kind.add_argument("--tiny", action="store_true")
    kind.add_argument("--multi-output", action="store_true")
    kind.add_argument("--failing", action="store_true")
    ap.add_argument("--out", required=True, help="output .pt")
    ap.add_argument("--embed-preset", action="store_true",
                    help="(--arch) embed the ImageClassification preset spec")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    if args.arch:
        if not hasattr(torchvision.models, args.arch):
            ap.error(f"unknown torchvision architecture {args.arch!r}")
        model = calibrate(getattr(torchvision.models, args.arch)(weights=None), args.seed)
        name, spec = args.arch, PRESET_SPEC if args.embed_preset else None
    else:
        cls, name = ((Tiny, "tiny") if args.tiny else
                     (MultiOutput, "multi_output") if args.multi_output else (Failing, "failing"))
        model, spec = cls(), TENSOR_SPEC
    scripted = torch.jit.script(model.eval())
    extra = {"ptjs.yaml": spec.format(name=name)} if spec else {}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.jit.save(scripted, args.out, _extra_files=extra)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes"
          f"{', embedded ptjs.yaml' if spec else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
