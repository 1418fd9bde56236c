#!/usr/bin/python3
"""The Python peer of `ptjs serve` in scripts/bench/serve_bench.sh: a Flask app with a
TorchServe-like `POST /predictions/<model>` (raw image body) that runs PIL + torchvision
transforms + torch.jit.load'ed TorchScript, with the pipeline resolved from the ptjs spec
exactly as python_run.py (and so ptjs) resolves it. Answers {"predictions": [...]} records.

  BENCH_MODELS=mobilenet=/tmp/m.pt gunicorn -w 2 -b 127.0.0.1:8081 --chdir scripts/bench flask_app:app

Environment: BENCH_MODELS (name=path[,name=path...], required); BENCH_TORCH_THREADS (intra-op
threads per worker, default 1: one worker per core, as TorchServe's default config does);
BENCH_DEVICE (cpu, cuda, cuda:N; default cpu); BENCH_READY_DIR (optional: each worker creates a file named after its pid there once loaded).
Each worker loads every model and runs one warm-up forward before it answers anything.
Must run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14, Pillow 9.4).
"""
import io
import os
import sys

import torch
from flask import Flask, request
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_run import Model  # noqa: E402

torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))


def load(models):
    loaded = {}
    for item in models.split(","):
        name, path = item.split("=", 1)
        model = Model(path, device=os.environ.get("BENCH_DEVICE", "cpu"))
        mode = (model.spec.get("input") or {}).get("mode", "RGB")
        model.records(model.forward(model.transform(Image.new(mode, (320, 240))).unsqueeze(0)))  # warm-up
        loaded[name] = model
    return loaded


MODELS = load(os.environ["BENCH_MODELS"])
if os.environ.get("BENCH_READY_DIR"):  # serve_bench.sh counts these to time the start-up
    open(os.path.join(os.environ["BENCH_READY_DIR"], str(os.getpid())), "w").close()
app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"status": "Healthy"}


@app.post("/predictions/<name>")
def predictions(name):
    model = MODELS.get(name)
    if model is None:
        return {"error": f"unknown model '{name}'"}, 404
    try:
        with Image.open(io.BytesIO(request.get_data())) as img:
            x = model.transform(img).unsqueeze(0)
    except Exception as e:  # noqa: BLE001 - any decode failure is the client's
        return {"error": f"cannot decode image: {e}"}, 400
    return model.records(model.forward(x))[0]
