#!/usr/bin/python3
"""Writes what the reliability tests need into OUT_DIR (deterministic, a few seconds):

models/tiny.pt, failing.pt, multi.pt   scripts/export_torchvision.py's --tiny, --failing and
                                       --multi-output models (tensor input x [-1, 4] FP32, Raw)
models/none_out.pt   [-1, 4] -> x * 2, but None when any element is > 100 (Optional[Tensor])
models/str_out.pt    [-1, 4] -> x * 2, but the string "not a tensor" when any element is > 100
models/always_none.pt  returns None for every input: must be refused at startup
models/slow.pt       [-1, 1] -> x * 2 after int(max(x)) 64x64 matmuls (x = 0 is instant): load
                     that keeps requests in flight for as long as a test needs
models/leaky.pt      [-1, 4] -> x * 2, but raises an error naming a file under OUT_DIR when any
                     element is negative (error bodies must not show server paths)
images/<name>        the bad-input matrix: empty, text named .jpg, truncated JPEG, PNG with a
                     bad CRC, a 30000x30000 PNG bomb, 1x1, 1x100000, animated GIF, 16-bit TIFF,
                     CMYK JPEG, from tests/parity/make_images.py's generators

usage: make_fixtures.py OUT_DIR
"""
import os
import sys
from typing import Optional, Union

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
import export_torchvision as ex  # noqa: E402
import make_images as mi  # noqa: E402


class NoneOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Optional[torch.Tensor]:
        if bool((x > 100).any()):
            return None
        return x * 2


class StrOut(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, str]:
        if bool((x > 100).any()):
            return "not a tensor"
        return x * 2


class AlwaysNone(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> Optional[torch.Tensor]:
        return None


class Leaky(torch.nn.Module):
    def __init__(self, secret: str):
        super().__init__()
        self.secret = secret

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise RuntimeError("cannot read '" + self.secret + "': No such file or directory")
        return x * 2


class Slow(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.m = torch.nn.Parameter(torch.eye(64) * 0.5, requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acc = torch.ones(64, 64)
        for _ in range(int(x.max())):
            acc = torch.mm(acc, self.m) + 1.0
        return x * 2 + acc[0, :1] * 0


SLOW_SPEC = """name: slow
input: {type: tensor, shape: [-1, 1], datatype: FP32}
postprocess: [{Raw: {}}]
"""


def save(module, path, name):
    torch.jit.save(torch.jit.script(module.eval()), path,
                   _extra_files={"ptjs.yaml": ex.TENSOR_SPEC.format(name=name)})


def main():
    out = sys.argv[1]
    models = os.path.join(out, "models")
    images = os.path.join(out, "images")
    os.makedirs(models, exist_ok=True)
    os.makedirs(images, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    for cls, name in ((ex.Tiny, "tiny"), (ex.Failing, "failing"), (ex.MultiOutput, "multi"),
                      (NoneOut, "none_out"), (StrOut, "str_out"), (AlwaysNone, "always_none")):
        save(cls(), os.path.join(models, name + ".pt"), name)
    torch.jit.save(torch.jit.script(Slow().eval()), os.path.join(models, "slow.pt"),
                   _extra_files={"ptjs.yaml": SLOW_SPEC})
    save(Leaky(os.path.join(models, "private", "weights.bin")), os.path.join(models, "leaky.pt"), "leaky")

    wanted_bad = {"empty", "text", "jpeg_truncated_half", "png_bad_crc", "png_bomb", "png_one_pixel",
                  "png_1x100000"}
    wanted_good = {"gif_animated", "tiff_gray16", "tiff_rgb16", "jpeg_cmyk"}
    for name, file_name, data in mi.bad_cases(truncation_sweep=False):
        if name in wanted_bad:
            with open(os.path.join(images, file_name), "wb") as f:
                f.write(data)
    for name, file_name, data in mi.format_cases():
        if name in wanted_good:
            with open(os.path.join(images, file_name), "wb") as f:
                f.write(data)
    print(f"make_fixtures: wrote {len(os.listdir(models))} models, {len(os.listdir(images))} images in {out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
