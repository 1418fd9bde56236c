#!/usr/bin/env python3
"""Exports a TorchScript image classifier's weights through torch.export + AOTInductor as a .pt2
package (torch >= 2.6), with a dynamic batch dimension. The digits model's architecture is
scripts/train_digits.py's DigitsNet; its weights come from the TorchScript file.
  export_pt2.py --model configs/digits/model.pt --out digits.pt2 [--device cuda] [--size 28] [--check]"""
import argparse
import os
import sys
import time

import torch

os.environ["PYTHONHASHSEED"] = "0"  # else train_digits re-executes the process to fix it
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from train_digits import DigitsNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--check", action="store_true", help="load the package back in Python and compare")
    args = ap.parse_args()
    t0 = time.time()
    net = DigitsNet()
    net.load_state_dict(torch.jit.load(args.model, map_location="cpu").state_dict())
    net = net.eval().to(args.device)
    x = torch.randn(2, 1, args.size, args.size, device=args.device)
    batch = torch.export.Dim("batch", min=1, max=256)
    with torch.inference_mode():
        program = torch.export.export(net, (x,), dynamic_shapes=({0: batch},))
        torch._inductor.aoti_compile_and_package(program, package_path=args.out)
    print(f"exported {args.out} with torch {torch.__version__} on {args.device} in {time.time() - t0:.1f} s")
    if args.check:  # Python's own loader on the package, against the eager module
        with torch.inference_mode():
            diff = (torch._inductor.aoti_load_package(args.out)(x) - net(x)).abs().max().item()
        print(f"Python's aoti_load_package of it: max |diff| vs eager {diff:.3g}")


if __name__ == "__main__":
    main()
