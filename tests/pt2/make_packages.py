#!/usr/bin/env python3
"""Writes the AOTInductor packages the .pt2 tests need into OUT_DIR, with the venv's torch 2.13
(scripts/install-deps.sh). Compiling takes minutes (resnet18 and mobilenet_v3_small about a
minute each on 2 cores), so a package is kept while OUT_DIR/stamp.json says it was made by the
same torch from the same version of this file.

resnet18.pt2, mobilenet_v3_small.pt2
               torchvision architectures, seeded random weights, batch dimension dynamic,
               the ImageNet preset + Softmax + TopK 5 spec in the metadata (ptjs.yaml), written
               by scripts/ptjs_export.py --format pt2 (which checks the package and parity)
photos/        real photos (scripts/photos.py)
reference.json Python's answers on photos/: PIL + torchvision's preset + the eager module,
               softmax, top 5 {"model": {"photo": [[index, score], ...]}}
linear.pt2     tensor model Linear(4, 3) with known weights, no spec inside (linear.yaml beside
               it says: input x [-1, 4] FP32, Raw)
exported_program.pt2  torch.export.save of the same: an ExportedProgram, no compiled code
cuda_labelled.pt2     linear.pt2 with its metadata saying it was compiled for CUDA
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "..", "scripts")
sys.path.insert(0, SCRIPTS)
from torchvision_cpu import import_torchvision  # noqa: E402

torchvision = import_torchvision()
import ptjs_export  # noqa: E402

out = sys.argv[1]
ptjs = os.environ["PTJS_BIN"]
os.makedirs(out, exist_ok=True)
torch.set_num_threads(2)
stamp_path = os.path.join(out, "stamp.json")
with open(__file__, "rb") as f:
    stamp = {"torch": torch.__version__, "script": hashlib.sha256(f.read()).hexdigest()}
try:
    with open(stamp_path) as f:
        fresh = json.load(f) == stamp
except (OSError, ValueError):
    fresh = False
if fresh:
    print(f"make_packages: {out} is up to date ({stamp_path})")
    sys.exit(0)

photos = os.path.join(out, "photos")
subprocess.run([sys.executable, os.path.join(SCRIPTS, "photos.py"), "--out", photos, "--count", "6"],
               check=True, capture_output=True)
photo_files = sorted(os.path.join(photos, f) for f in os.listdir(photos))

reference = {}
for arch in ("resnet18", "mobilenet_v3_small"):
    torch.manual_seed(0)
    net = getattr(torchvision.models, arch)(weights=None)
    preset = torchvision.models.get_model_weights(arch).DEFAULT.transforms()
    # Batch norms calibrated on the photos, as training leaves them: with torchvision's random
    # init alone, mobilenet_v3_small's features fade to ~5e-9 and its 1000 probabilities are all
    # 0.001, ties that say nothing about the order of a top 5.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a cumulative average: one pass gives the batch's statistics
    with torch.no_grad():
        net.train()(torch.stack([preset(Image.open(p).convert("RGB")) for p in photo_files]))
    net.eval()
    ptjs_export.export(net, preset, os.path.join(out, arch + ".pt2"), format="pt2", ptjs=ptjs,
                       sample=photo_files[0])
    answers = {}
    with torch.no_grad():
        for p in photo_files:
            probs = torch.softmax(net(preset(Image.open(p).convert("RGB")).unsqueeze(0)), dim=1)[0]
            top = torch.topk(probs, 5)
            answers[os.path.basename(p)] = [[int(i), float(s)] for s, i in zip(top.values, top.indices)]
    reference[arch] = answers
with open(os.path.join(out, "reference.json"), "w") as f:
    json.dump(reference, f)


class Linear(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 1.0, 1.0, 1.0]]))
            self.fc.bias.copy_(torch.tensor([0.5, -0.5, 0.0]))

    def forward(self, x):
        return self.fc(x)


linear = Linear().eval()
program = ptjs_export.export_dynamic_batch(linear, torch.rand(2, 4), "x")
package = os.path.join(out, "linear.pt2")
torch._inductor.aoti_compile_and_package(program, package_path=package, inductor_configs=ptjs_export.BATCH_OF_ONE)
with open(os.path.join(out, "linear.yaml"), "w") as f:
    f.write("name: linear\nmodel: linear.pt2\ninput: {type: tensor, shape: [-1, 4], datatype: FP32}\n"
            "postprocess: [{Raw: {}}]\n")
torch.export.save(program, os.path.join(out, "exported_program.pt2"))

# The same package, its metadata saying CUDA: what a package compiled on a GPU machine carries.
with zipfile.ZipFile(package) as src, zipfile.ZipFile(os.path.join(out, "cuda_labelled.pt2"), "w") as dst:
    relabelled = 0
    for item in src.infolist():
        data = src.read(item)
        if item.filename.endswith("_metadata.json"):
            meta = json.loads(data)
            if meta.get("AOTI_DEVICE_KEY") == "cpu":
                meta["AOTI_DEVICE_KEY"] = "cuda"
                relabelled += 1
            data = json.dumps(meta).encode()
        dst.writestr(item, data)
    assert relabelled, "no metadata file says AOTI_DEVICE_KEY cpu"

with open(stamp_path, "w") as f:
    json.dump(stamp, f)
print(f"make_packages: wrote {out}")
