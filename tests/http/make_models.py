#!/usr/bin/python3
"""Writes what the HTTP tests need into OUT_DIR (deterministic, a few seconds):
linear.pt        tensor model Linear(4, 3) with known weights, input `x` [-1, 4] FP32, Raw outputs
raises.pt        tensor model [-1, 4] that raises when an input holds a negative number
raises_image.pt  image model (L, 8x8) that raises on an all-white image
slow.pt          tensor model [-1, 1]: x * 2 after int(max(x)) in-place multiplications of a
                 512x512 tensor (x = 0 is instant; no BLAS and no allocation per step, which
                 the sanitizer builds slow down: 128x128 matmuls ran 12x slower under TSan
                 with OpenBLAS than in the Python that calibrates them)
slow.json        {"iterations_per_second": ...} for slow.pt, measured here with one thread
pair.pt          two tensor inputs, as a text model takes them: ids INT64 [-1, -1] and mask INT64
                 [-1, -1]; output0 FP32 [-1, 1] = sum over j of (2 ids[j] + 1) mask[j]
small.jpg        160x120 RGB JPEG (skimage's chelsea), big.jpg 512x512 (astronaut)
white.png        32x32 white image
tls.crt/tls.key  a self-signed certificate for 127.0.0.1 (when openssl is installed)
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)

TENSOR_SPEC = """name: {name}
input: {{type: tensor, shape: {shape}, datatype: FP32}}
postprocess: [{{Raw: {{}}}}]
"""


class Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 1.0, 1.0, 1.0]]))
            self.fc.bias.copy_(torch.tensor([0.5, -0.5, 0.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)


class Raises(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x < 0).any()):
            raise RuntimeError("negative input")
        return x * 2


class RaisesImage(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool((x > 0.99).all()):
            raise RuntimeError("white image")
        return x.flatten(1)[:, :3]


class Slow(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(512, 512), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ones(512, 512)
        for _ in range(int(x.max().item())):
            y.mul_(self.w)
        return x * 2 + y[0, 0] - 1


def save(module, name, spec):
    torch.jit.save(torch.jit.script(module.eval()), os.path.join(out, name + ".pt"),
                   _extra_files={"ptjs.yaml": spec})


class Pair(torch.nn.Module):
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return ((input_ids * 2 + 1) * attention_mask).sum(1, keepdim=True).float()


save(Linear(), "linear", TENSOR_SPEC.format(name="linear", shape="[-1, 4]"))
save(Pair(), "pair", """name: pair
input:
  type: tensor
  tensors:
    - {name: ids, shape: [-1, -1], datatype: INT64}
    - {shape: [-1, -1], datatype: INT64}
postprocess: [{Raw: {}}]
""")
save(Raises(), "raises", TENSOR_SPEC.format(name="raises", shape="[-1, 4]"))
save(RaisesImage(), "raises_image", """name: raises_image
input: {type: image, mode: L}
preprocess:
  - Resize: {size: [8, 8]}
  - ToTensor: {}
postprocess:
  - Raw: {}
""")
slow = Slow()
save(slow, "slow", TENSOR_SPEC.format(name="slow", shape="[-1, 1]"))

scripted = torch.jit.load(os.path.join(out, "slow.pt"))
scripted(torch.tensor([[20.0]]))  # warm up
start = time.perf_counter()
scripted(torch.tensor([[200.0]]))
with open(os.path.join(out, "slow.json"), "w") as f:
    json.dump({"iterations_per_second": 200 / (time.perf_counter() - start)}, f)

data = "/usr/lib/python3/dist-packages/skimage/data"
Image.open(os.path.join(data, "chelsea.png")).convert("RGB").resize((160, 120)).save(
    os.path.join(out, "small.jpg"), quality=90)
Image.open(os.path.join(data, "astronaut.png")).convert("RGB").save(os.path.join(out, "big.jpg"), quality=90)
Image.fromarray(np.full((32, 32), 255, np.uint8), mode="L").save(os.path.join(out, "white.png"))

if shutil.which("openssl"):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(out, "tls.key"),
                    "-out", os.path.join(out, "tls.crt")], check=True, capture_output=True)
