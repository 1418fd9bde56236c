"""import_torchvision(): torchvision beside the CPU build of torch 2.13, for the venv of
scripts/install-deps.sh.

PyPI has torchvision 0.28.0 (the release for torch 2.13) only as a CUDA build: its compiled
operators (torchvision::nms, roi_align, deform_conv2d, ...) link libtorch_cuda and do not load
beside the CPU torch, and `import torchvision` then stops where it registers their fake (meta)
kernels. Everything ptjs uses from torchvision is Python: the model definitions (classification
and segmentation; not detection, whose NMS is one of those operators) and the PIL transforms. So
when, and only when, that import fails for that reason, this imports torchvision again with the
fake-kernel registrations of operators that do not exist skipped. Calling one of those operators
still fails, with torch's own "no such operator" error.
"""
import sys

import torch


def import_torchvision():
    try:
        import torchvision
        return torchvision
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    register_fake = torch.library.register_fake

    def register_fake_if_defined(op, *args, **kwargs):
        namespace, _, name = op.partition("::") if isinstance(op, str) else ("", "", "")
        if namespace == "torchvision" and not hasattr(torch.ops.torchvision, name):
            return lambda fn: fn
        return register_fake(op, *args, **kwargs)

    torch.library.register_fake = register_fake_if_defined
    try:
        import torchvision
    finally:
        torch.library.register_fake = register_fake
    return torchvision
