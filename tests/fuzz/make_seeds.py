#!/usr/bin/python3
"""Writes the committed seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

    /usr/bin/python3 tests/fuzz/make_seeds.py [--out tests/fuzz/corpus]

Deterministic; rerun after changing it and commit the result. Seeds are small (a few hundred
bytes to a few KB): libFuzzer mutates small inputs faster, and its -max_len follows the
largest seed. Images are tiny crops of real photos (skimage's chelsea, camera) and real
digits from configs/digits/images, in every format and layout image_io handles, plus
truncated/corrupt/oversized headers. Requests and specs follow the README and DESIGN.md.
"""
import argparse
import base64
import io
import json
import os
import shutil
import struct
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
import make_images as mi  # noqa: E402  (its hand-written PNG/BMP/TIFF/GIF encoders)


def image_seeds():
    chelsea = mi.photo("chelsea.png").convert("RGB")
    tiny = chelsea.resize((16, 12))
    gray = mi.photo("camera.png").convert("L").resize((12, 9))
    logo = mi.photo("logo.png").convert("RGBA").resize((10, 10))
    a_rgb = np.array(tiny)
    a_gray = np.array(tiny.convert("L"))
    enc = mi.encode
    yield "jpeg_baseline.jpg", enc(tiny, "JPEG", quality=80)
    yield "jpeg_progressive.jpg", enc(tiny, "JPEG", progressive=True)
    yield "jpeg_444.jpg", enc(tiny, "JPEG", quality=75, subsampling=0)
    yield "jpeg_gray.jpg", enc(gray, "JPEG")
    yield "jpeg_cmyk.jpg", enc(tiny.convert("CMYK"), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6
    yield "jpeg_exif6.jpg", enc(tiny, "JPEG", exif=exif.tobytes())
    yield "png_rgb.png", enc(tiny, "PNG")
    yield "png_rgba.png", enc(logo, "PNG")
    yield "png_gray.png", enc(gray, "PNG")
    yield "png_palette_trns.png", enc(logo.quantize(16), "PNG", transparency=0)
    yield "png_1bit.png", enc(tiny.convert("1"), "PNG")
    yield "png_interlaced.png", mi.make_png(a_rgb, 2, 8, interlace=True)
    yield "png_rgb16.png", mi.make_png(a_rgb.astype(np.uint16) * 257, 2, 16)
    yield "png_gray16.png", mi.make_png(a_gray.astype(np.uint16) * 4, 0, 16)
    yield "png_exif6.png", enc(tiny, "PNG", exif=exif.tobytes())
    yield "bmp_rgb.bmp", enc(tiny, "BMP")
    yield "bmp_top_down.bmp", mi.bmp_top_down(enc(tiny, "BMP"))
    yield "bmp_palette.bmp", enc(tiny.quantize(16), "BMP")
    yield "bmp_rgb565.bmp", mi.make_bmp16(a_rgb, bitfields=True)
    yield "bmp_rgb555.bmp", mi.make_bmp16(a_rgb, bitfields=False)
    q = tiny.quantize(8)
    pal = np.array(q.getpalette()[:24], np.uint8).reshape(-1, 3)
    yield "bmp_rle8.bmp", mi.make_bmp_rle8(np.array(q), pal)
    yield "tiff_rgb.tif", enc(tiny, "TIFF")
    yield "tiff_lzw.tif", enc(tiny, "TIFF", compression="tiff_lzw")
    yield "tiff_cmyk.tif", enc(tiny.convert("CMYK"), "TIFF")
    yield "tiff_rgb16.tif", mi.make_tiff_rgb16(a_rgb.astype(np.uint16) * 257)
    yield "tiff_gray16.tif", enc(Image.fromarray(a_gray.astype(np.uint16) * 4), "TIFF")
    yield "tiff_exif6.tif", enc(tiny, "TIFF", tiffinfo={0x0112: 6})
    yield "webp_lossy.webp", enc(tiny, "WEBP", quality=60)
    yield "webp_lossless.webp", enc(tiny, "WEBP", lossless=True)
    yield "webp_alpha.webp", enc(logo, "WEBP", lossless=True)
    yield "webp_animated.webp", enc(tiny, "WEBP", save_all=True, append_images=[tiny.rotate(180)])
    yield "gif.gif", enc(tiny, "GIF")
    yield "gif_animated.gif", enc(tiny, "GIF", save_all=True, append_images=[tiny.rotate(180)])
    pal16 = (np.arange(48) * 7 % 256).astype(np.uint8).tobytes()
    yield "gif_small_frame.gif", mi.make_gif((4, 3), (1, 1, 2, 2), [5, 6, 7, 8], pal16, 4)
    yield "gif_frame_off_screen.gif", mi.make_gif((4, 3), (0, 0, 5, 4), list(range(15)) + [1] * 5, pal16, 4)
    yield "gif_no_eoi.gif", mi.make_gif((4, 3), (0, 0, 4, 3), list(range(12)), pal16, 4, eoi=False)
    yield "gif_interlaced.gif", mi.make_gif((4, 8), (0, 0, 4, 8), list(range(16)) * 2, pal16, 4, interlace=True)
    # Bad ones: the refusals are code paths too.
    png = enc(tiny, "PNG")
    bomb = bytearray(png[:33])  # signature + IHDR
    struct.pack_into(">II", bomb, 16, 30000, 30000)
    yield "png_bomb_header.png", bytes(bomb) + png[33:]
    crc = bytearray(png)
    crc[-20] ^= 0x55
    yield "png_bad_crc.png", bytes(crc)
    jpg = enc(tiny, "JPEG")
    yield "jpeg_truncated.jpg", jpg[: len(jpg) // 2]
    yield "png_1x300.png", mi.make_png(np.zeros((300, 1), np.uint8), 0, 8)
    yield "text.jpg", b"this is not an image\n"
    # Real digits, exactly as the bundled model sees them.
    digits = os.path.join(ROOT, "configs", "digits", "images")
    for label in ("zero", "three", "eight"):
        first = sorted(os.listdir(os.path.join(digits, label)))[0]
        with open(os.path.join(digits, label, first), "rb") as f:
            yield f"digit_{label}.png", f.read()


def v2_seeds():
    """First byte: '0' JSON only, '1' binary extension split after the JSON, '2' two-byte
    little-endian header length follows (see fuzz_v2_request.cpp)."""
    def j(doc):
        return json.dumps(doc, separators=(",", ":")).encode()

    yield "fp32.json", b"0" + j({"id": "a", "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32",
                                                         "data": [[1.5, -2, 3e30, 0]]}]})
    yield "nested_int.json", b"0" + j({"inputs": [{"name": "x", "shape": [2, 2, 1], "datatype": "INT64",
                                                    "data": [[[1], [-9007199254740993]], [[3], [4]]]}],
                                       "outputs": [{"name": "output0"}]})
    yield "types.json", b"0" + j({"inputs": [
        {"name": "a", "shape": [2], "datatype": "BOOL", "data": [True, False]},
        {"name": "b", "shape": [1], "datatype": "FP16", "data": [65504.0]},
        {"name": "c", "shape": [1], "datatype": "BF16", "data": [1e-40]},
        {"name": "d", "shape": [3], "datatype": "UINT8", "data": [0, 255, 7]},
        {"name": "e", "shape": [1], "datatype": "INT8", "data": [-128]},
        {"name": "f", "shape": [1], "datatype": "INT16", "data": [32767]},
        {"name": "g", "shape": [1], "datatype": "INT32", "data": [-2147483648]},
        {"name": "h", "shape": [1], "datatype": "FP64", "data": [1.7976931348623157e308]}],
        "parameters": {"binary_data_output": True}})
    png = mi.encode(Image.new("L", (4, 4), 200), "PNG")
    yield "bytes_image.json", b"0" + j({"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES",
                                                     "data": [base64.b64encode(png).decode()]}]})
    yield "bytes_data_url.json", b"0" + j({"inputs": [{"name": "x", "shape": [1, 1], "datatype": "BYTES",
                                                        "data": [["data:image/png;base64,"
                                                                  + base64.urlsafe_b64encode(png).decode()]]}]})
    yield "bad_shape.json", b"0" + j({"inputs": [{"name": "x", "shape": [2, -1], "datatype": "FP32", "data": [1]}]})
    head = j({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}],
              "outputs": [{"name": "output0", "parameters": {"binary_data": True}}]})
    yield "binary_fp32.bin", b"1" + head + struct.pack("<4f", 1, 2, 3, 4)
    elems = [png, b"not an image"]
    blob = b"".join(struct.pack("<I", len(e)) + e for e in elems)
    head = j({"inputs": [{"name": "x", "shape": [2], "datatype": "BYTES",
                          "parameters": {"binary_data_size": len(blob)}}]})
    yield "binary_bytes.bin", b"1" + head + blob
    yield "binary_length.bin", b"2" + struct.pack("<H", len(head)) + head + blob
    yield "not_object.json", b"0[1,2,3]"


def multipart_seeds():
    """First byte: '0' a multipart body (boundary ptjsfuzz), '1' a whole request stream."""
    png = mi.encode(Image.new("RGB", (3, 2), (10, 20, 30)), "PNG")
    body = (b"--ptjsfuzz\r\nContent-Disposition: form-data; name=\"data\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + png + b"\r\n"
            b"--ptjsfuzz\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nsecond\r\n--ptjsfuzz--\r\n")
    yield "two_parts", b"0" + body
    yield "no_final_boundary", b"0" + body[: body.rindex(b"--ptjsfuzz--")]
    yield "utf8_names", b"0" + (b"--ptjsfuzz\r\nContent-Disposition: form-data; name=\"\xc3\xa9\xff\"; "
                                b"filename=\"x\\\"y\x01.jpg\"\r\n\r\nzz\r\n--ptjsfuzz--\r\n")
    req = (b"POST /predictions/m HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body.replace(b"ptjsfuzz", b"XyZ")) + body.replace(b"ptjsfuzz", b"XyZ"))
    yield "raw_multipart", b"1" + req
    chunked = (b"POST /v2/models/m/infer HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
               b"Inference-Header-Content-Length: 2\r\n\r\n4\r\n{}ab\r\n0\r\n\r\n")
    yield "raw_chunked", b"1" + chunked
    two = (b"GET /v2/health/ready HTTP/1.1\r\nHost: h\r\n\r\n"
           b"POST /predictions/m HTTP/1.1\r\nContent-Length: 5\r\nContent-Type: image/png\r\n\r\nhello"
           b"OPTIONS /v2 HTTP/1.1\r\nOrigin: x\r\nConnection: close\r\n\r\n")
    yield "raw_keep_alive", b"1" + two
    yield "raw_expect", b"1" + (b"PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
                                b"Content-Type: multipart/form-data; boundary=\"q q\"\r\n\r\nabc")


def spec_seeds():
    yield "digits.yaml", open(os.path.join(ROOT, "configs", "digits", "model.yaml"), "rb").read()
    yield "preset.yaml", b"""name: r
input: {type: image, mode: RGB}
preprocess: {preset: ImageClassification, resize_size: 40, crop_size: 32, interpolation: bicubic,
             mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
postprocess: [{Softmax: {dim: 1}}, {TopK: {k: 2}}]
labels: [a, b, c]
batching: {max_batch_size: 4, max_delay_ms: 0}
"""
    yield "all_transforms.yaml", b"""input: {type: image, mode: L}
preprocess:
  - Grayscale: {num_output_channels: 3}
  - Resize: {size: 20, interpolation: lanczos, max_size: 30, antialias: true}
  - Pad: {padding: [1, 2, 3, 4], fill: 9, padding_mode: reflect}
  - CenterCrop: {size: [18, 17]}
  - PILToTensor: {}
  - ConvertImageDtype: {dtype: float32}
  - Resize: {size: [9, 7], interpolation: nearest}
  - Normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], inplace: false}
"""
    yield "tensor.yaml", b"""name: t
input: {type: tensor, shape: [-1, 4], datatype: FP32}
postprocess: [Raw]
"""
    yield "bad_value.yaml", b"""input: {type: image, mode: RGB}
preprocess:
  - Resize: {size: -3}
"""
    yield "exif.yaml", b"""input: {type: image, mode: RGB, exif_transpose: true}
preprocess: [{Resize: {size: [8, 8]}}, {ToTensor: {}}]
postprocess: [{Sigmoid: {}}, {Argmax: {}}]
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()
    for target, cases in (("fuzz_decode", image_seeds()), ("fuzz_v2_request", v2_seeds()),
                          ("fuzz_multipart", multipart_seeds()), ("fuzz_model_spec", spec_seeds())):
        d = os.path.join(args.out, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        total = 0
        for name, data in cases:
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            total += len(data)
        print(f"{target}: {len(os.listdir(d))} seeds, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
