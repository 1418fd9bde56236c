#!/usr/bin/python3
"""Image fixtures for ptjs, made from real photos with Pillow, plus what PIL decodes them to.

    make_images.py --out DIR [--set formats|photos|bad|all] ...

Sets (each in DIR/<set>/, with DIR/<set>/manifest.tsv):
  formats  one photo per format variant (JPEG baseline/progressive/gray/CMYK, PNG 1..16-bit,
           palette, alpha, interlaced, BMP, TIFF, WebP, GIF), each with PIL's decoded arrays.
  photos   real photos in several formats and sizes, for CLI tests and benchmarks.
  bad      corrupt, truncated, empty and oversized files, with what PIL says about each.

manifest.tsv columns: name, file, mode, expect. `expect` is `npy:<file>` holding
np.array(Image.open(file).convert(mode)) as uint8 (H, W[, 3]), or `error:<PIL's message>`
when PIL refuses the file. Paths are relative to the set's folder.

Importable: format_cases(), photo_cases(), bad_cases() yield (name, file_name, bytes);
write_set(out_dir, cases) writes files, references and the manifest.
Run with Debian's /usr/bin/python3 (Pillow 9.4, numpy).
"""
import argparse
import io
import os
import re
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps

SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"
MODES = ("RGB", "L")


def photo(name):
    im = Image.open(os.path.join(SKIMAGE_DATA, name))
    im.load()
    return im


def encode(im, fmt, **params):
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


# --- hand-written PNG and BMP encoders, for variants Pillow cannot write -------------------

def _png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))


def _png_rows(a, depth):
    out = bytearray()
    for row in a:
        out.append(0)  # filter: none
        if depth == 16:
            out += row.astype(">u2").tobytes()
        elif depth == 8:
            out += row.astype(np.uint8).tobytes()
        else:
            bits = np.unpackbits(row.astype(np.uint8).reshape(-1, 1), axis=1)[:, 8 - depth:]
            out += np.packbits(bits.reshape(-1)).tobytes()
    return bytes(out)


def make_png(a, color_type, depth, palette=None, trns=None, interlace=False, extra=b""):
    """a: (H, W) or (H, W, C) sample values (unpacked)."""
    h, w = a.shape[:2]
    if interlace:
        raw = b"".join(_png_rows(a[y0::dy, x0::dx], depth) for x0, y0, dx, dy in _ADAM7
                       if a[y0::dy, x0::dx].size)
    else:
        raw = _png_rows(a, depth)
    out = b"\x89PNG\r\n\x1a\n"
    out += _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0,
                                           int(interlace)))
    if palette is not None:
        out += _png_chunk(b"PLTE", bytes(palette))
    if trns is not None:
        out += _png_chunk(b"tRNS", trns)
    out += extra + _png_chunk(b"IDAT", zlib.compress(raw, 6)) + _png_chunk(b"IEND", b"")
    return out


def png_bomb(w, h):
    """A valid 1-bit PNG of w x h black pixels: about 100 KB for 30000 x 30000."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (w + 7) // 8)
    body = b"".join(comp.compress(row * 1000) for _ in range(h // 1000))
    body += comp.compress(row * (h % 1000)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b""))


def make_bmp16(rgb, bitfields):
    """16-bit BMP: RGB555 (BI_RGB) or RGB565 (BI_BITFIELDS), bottom-up."""
    h, w = rgb.shape[:2]
    r, g, b = (rgb[..., i].astype(np.uint16) for i in range(3))
    px = ((r >> 3) << 11 | (g >> 2) << 5 | b >> 3) if bitfields else \
         ((r >> 3) << 10 | (g >> 3) << 5 | b >> 3)
    stride = (w * 2 + 3) & ~3
    rows = b"".join(px[y].astype("<u2").tobytes().ljust(stride, b"\0") for y in range(h - 1, -1, -1))
    masks = struct.pack("<III", 0xF800, 0x07E0, 0x001F) if bitfields else b""
    off = 14 + 40 + len(masks)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 16, 3 if bitfields else 0, len(rows),
                       2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", off + len(rows), 0, 0, off) + info + masks + rows


def make_bmp_rle8(index, palette):
    """8-bit RLE-compressed BMP (BI_RLE8) of palette indices, bottom-up, runs only."""
    h, w = index.shape
    body = bytearray()
    for y in range(h - 1, -1, -1):
        row, x = index[y], 0
        while x < w:
            n = 1
            while x + n < w and n < 255 and row[x + n] == row[x]:
                n += 1
            body += bytes((n, int(row[x])))
            x += n
        body += b"\0\0"
    body += b"\0\1"
    pal = b"".join(bytes((b, g, r, 0)) for r, g, b in palette)
    off = 14 + 40 + len(pal)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 8, 1, len(body), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", off + len(body), 0, 0, off) + info + pal + bytes(body)


def make_tiff_rgb16(rgb16):
    """Uncompressed little-endian 16-bit RGB TIFF, one strip (Pillow cannot write one)."""
    h, w = rgb16.shape[:2]
    data = rgb16.astype("<u2").tobytes()
    n = 10
    bps_at = 8 + 2 + n * 12 + 4           # BitsPerSample values follow the IFD
    data_at = bps_at + 6
    short, long_ = 3, 4
    entries = [(256, short, 1, w), (257, short, 1, h), (258, short, 3, bps_at),
               (259, short, 1, 1), (262, short, 1, 2), (273, long_, 1, data_at),
               (277, short, 1, 3), (278, short, 1, h), (279, long_, 1, len(data)),
               (284, short, 1, 1)]
    out = bytearray(b"II*\0" + struct.pack("<IH", 8, n))
    for tag, typ, count, value in entries:
        inline_short = typ == short and count == 1
        out += struct.pack("<HHIHH" if inline_short else "<HHII", tag, typ, count, value,
                           *((0,) if inline_short else ()))
    out += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + data
    return bytes(out)


def make_gif(screen, frame, indices, palette, min_bits=8, eoi=True, interlace=False):
    """One-frame GIF written with uncompressed-style LZW (a clear code before the table grows),
    for layouts Pillow does not write: frames off the logical screen, short palettes."""
    w, h = screen
    x0, y0, fw, fh = frame
    clear = 1 << min_bits
    width, run, codes = min_bits + 1, 0, [clear]
    for v in indices:
        if run == (1 << width) - clear - 3:
            codes.append(clear)
            run = 0
        codes.append(int(v))
        run += 1
    if eoi:
        codes.append(clear + 1)
    acc = nbits = 0
    data = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += width
        while nbits >= 8:
            data.append(acc & 255)
            acc >>= 8
            nbits -= 8
    if nbits:
        data.append(acc)
    bits = max(1, (len(palette) // 3 - 1).bit_length())
    pal = bytes(palette).ljust(3 << bits, b"\0")
    out = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | (bits - 1), 0, 0) + pal
    out += b"," + struct.pack("<HHHHB", x0, y0, fw, fh, 0x40 if interlace else 0)
    out += bytes((min_bits,)) + b"".join(bytes((len(data[i:i + 255]),)) + data[i:i + 255]
                                        for i in range(0, len(data), 255))
    return out + b"\0;"


def bmp_top_down(bmp24):
    """Turns Pillow's bottom-up 24-bit BMP into a top-down one (negative height)."""
    off, = struct.unpack_from("<I", bmp24, 10)
    w, h = struct.unpack_from("<ii", bmp24, 18)
    stride = (w * 3 + 3) & ~3
    rows = [bmp24[off + y * stride: off + (y + 1) * stride] for y in range(h)]
    head = bytearray(bmp24[:off])
    struct.pack_into("<i", head, 22, -h)
    return bytes(head) + b"".join(reversed(rows))


# --- the sets ------------------------------------------------------------------------------

def format_cases():
    rng = np.random.default_rng(7)
    chelsea = photo("chelsea.png").convert("RGB")            # 451 x 300
    coffee = photo("coffee.png").convert("RGB")              # 600 x 400
    astro = photo("astronaut.png").convert("RGB").crop((128, 0, 384, 256))
    camera = photo("camera.png").convert("L").resize((256, 256))
    logo = photo("logo.png").convert("RGBA").resize((250, 250))   # real alpha edges
    small = chelsea.resize((113, 75))
    a_rgb = np.array(small)
    a_gray = np.array(small.convert("L"))

    yield "jpeg_baseline", "jpeg_baseline.jpg", encode(chelsea, "JPEG", quality=90)
    yield "jpeg_444", "jpeg_444.jpg", encode(astro, "JPEG", quality=75, subsampling=0)
    yield "jpeg_422", "jpeg_422.jpg", encode(astro, "JPEG", quality=95, subsampling=1)
    yield "jpeg_progressive", "jpeg_progressive.jpg", encode(coffee, "JPEG", progressive=True)
    yield "jpeg_optimized", "jpeg_optimized.jpg", encode(chelsea, "JPEG", optimize=True, quality=50)
    yield "jpeg_gray", "jpeg_gray.jpg", encode(camera, "JPEG", quality=85)
    yield "jpeg_gray_progressive", "jpeg_gray_progressive.jpg", \
        encode(camera, "JPEG", progressive=True)
    yield "jpeg_cmyk", "jpeg_cmyk.jpg", encode(chelsea.convert("CMYK"), "JPEG", quality=90)
    yield "jpeg_odd_size", "jpeg_odd_size.jpg", encode(chelsea.resize((17, 13)), "JPEG")
    yield "jpeg_1x1", "jpeg_1x1.jpg", encode(chelsea.resize((1, 1)), "JPEG")
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        yield f"jpeg_exif{o}", f"jpeg_exif{o}.jpg", encode(small, "JPEG", exif=exif.tobytes())
    exif = Image.Exif()
    exif[0x0112] = 6
    yield "png_exif6", "png_exif6.png", encode(small, "PNG", exif=exif.tobytes())
    yield "webp_exif6", "webp_exif6.webp", encode(small, "WEBP", exif=exif.tobytes())
    yield "tiff_exif6", "tiff_exif6.tif", encode(small, "TIFF", tiffinfo={0x0112: 6})
    yield "jpeg_trailing_garbage", "jpeg_trailing_garbage.jpg", \
        encode(small, "JPEG") + b"\0garbage after EOI" * 10
    with open(os.path.join(SKIMAGE_DATA, "hubble_deep_field.jpg"), "rb") as f:
        yield "jpeg_camera_file", "jpeg_camera_file.jpg", f.read()

    yield "png_rgb", "png_rgb.png", encode(chelsea, "PNG")
    yield "png_rgba", "png_rgba.png", encode(logo, "PNG")
    yield "png_gray", "png_gray.png", encode(camera, "PNG")
    yield "png_gray_alpha", "png_gray_alpha.png", encode(logo.convert("LA"), "PNG")
    yield "png_palette", "png_palette.png", encode(chelsea.quantize(256), "PNG")
    yield "png_palette_trns", "png_palette_trns.png", \
        encode(logo.quantize(200), "PNG", transparency=0)
    yield "png_palette_4bit", "png_palette_4bit.png", encode(small.quantize(16), "PNG", bits=4)
    yield "png_1bit", "png_1bit.png", encode(small.convert("1"), "PNG")
    yield "png_rgb_trns", "png_rgb_trns.png", encode(small, "PNG", transparency=tuple(int(v) for v in a_rgb[0, 0]))
    yield "png_gray_trns", "png_gray_trns.png", encode(camera, "PNG", transparency=0)
    yield "png_gray_2bit", "png_gray_2bit.png", make_png(a_gray >> 6, 0, 2)
    yield "png_gray_4bit", "png_gray_4bit.png", make_png(a_gray >> 4, 0, 4)
    yield "png_interlaced", "png_interlaced.png", make_png(a_rgb, 2, 8, interlace=True)
    lo = rng.integers(0, 256, a_rgb.shape, dtype=np.uint16)
    yield "png_rgb16", "png_rgb16.png", make_png(a_rgb.astype(np.uint16) * 256 + lo, 2, 16)
    rgba16 = np.dstack([a_rgb, a_gray]).astype(np.uint16) * 257
    yield "png_rgba16", "png_rgba16.png", make_png(rgba16, 6, 16)
    yield "png_gray_alpha16", "png_gray_alpha16.png", \
        make_png(np.dstack([a_gray, a_gray[::-1]]).astype(np.uint16) * 257, 4, 16)
    # 16-bit grey spans 0..1020, so PIL's clipping to 255 shows.
    yield "png_gray16", "png_gray16.png", make_png(a_gray.astype(np.uint16) * 4, 0, 16)
    yield "png_gray16_full", "png_gray16_full.png", make_png(a_gray.astype(np.uint16) * 257, 0, 16)

    yield "bmp_rgb", "bmp_rgb.bmp", encode(chelsea, "BMP")
    yield "bmp_top_down", "bmp_top_down.bmp", bmp_top_down(encode(small, "BMP"))
    yield "bmp_rgba", "bmp_rgba.bmp", encode(logo, "BMP")
    yield "bmp_gray", "bmp_gray.bmp", encode(camera, "BMP")
    yield "bmp_palette", "bmp_palette.bmp", encode(small.quantize(256), "BMP")
    yield "bmp_1bit", "bmp_1bit.bmp", encode(small.convert("1"), "BMP")
    yield "bmp_rgb555", "bmp_rgb555.bmp", make_bmp16(a_rgb, bitfields=False)
    yield "bmp_rgb565", "bmp_rgb565.bmp", make_bmp16(a_rgb, bitfields=True)
    quant = small.quantize(64)
    pal = np.array(quant.getpalette()[: 64 * 3], np.uint8).reshape(-1, 3)
    yield "bmp_rle8", "bmp_rle8.bmp", make_bmp_rle8(np.array(quant), pal)

    yield "tiff_rgb", "tiff_rgb.tif", encode(chelsea, "TIFF")
    yield "tiff_lzw", "tiff_lzw.tif", encode(chelsea, "TIFF", compression="tiff_lzw")
    yield "tiff_deflate", "tiff_deflate.tif", encode(small, "TIFF", compression="tiff_adobe_deflate")
    yield "tiff_packbits", "tiff_packbits.tif", encode(small, "TIFF", compression="packbits")
    yield "tiff_jpeg", "tiff_jpeg.tif", encode(astro, "TIFF", compression="jpeg")
    yield "tiff_gray", "tiff_gray.tif", encode(camera, "TIFF")
    yield "tiff_rgba", "tiff_rgba.tif", encode(logo, "TIFF")
    yield "tiff_palette", "tiff_palette.tif", encode(small.quantize(64), "TIFF")
    yield "tiff_1bit", "tiff_1bit.tif", encode(small.convert("1"), "TIFF")
    yield "tiff_cmyk", "tiff_cmyk.tif", encode(small.convert("CMYK"), "TIFF")
    yield "tiff_rgb16", "tiff_rgb16.tif", make_tiff_rgb16(a_rgb.astype(np.uint16) * 256 + lo)
    yield "tiff_gray16", "tiff_gray16.tif", \
        encode(Image.fromarray(a_gray.astype(np.uint16) * 4), "TIFF")
    for name in ("chessboard_GRAY_U16.tif", "chessboard_GRAY_U16B.tif"):
        with open(os.path.join(SKIMAGE_DATA, name), "rb") as f:
            yield "tiff_" + name[:-4].lower(), "tiff_" + name.lower(), f.read()
    yield "tiff_multipage", "tiff_multipage.tif", \
        encode(small, "TIFF", save_all=True, append_images=[small.rotate(90)])

    yield "webp_lossy", "webp_lossy.webp", encode(chelsea, "WEBP", quality=80)
    yield "webp_lossless", "webp_lossless.webp", encode(small, "WEBP", lossless=True)
    yield "webp_lossy_alpha", "webp_lossy_alpha.webp", encode(logo, "WEBP", quality=70)
    yield "webp_lossless_alpha", "webp_lossless_alpha.webp", encode(logo, "WEBP", lossless=True)
    yield "webp_gray", "webp_gray.webp", encode(camera, "WEBP")
    yield "webp_animated", "webp_animated.webp", \
        encode(small, "WEBP", save_all=True, append_images=[small.rotate(180)], duration=100)

    yield "gif", "gif.gif", encode(small, "GIF")
    yield "gif_gray", "gif_gray.gif", encode(camera, "GIF")
    yield "gif_trns", "gif_trns.gif", encode(logo.convert("RGB").quantize(128), "GIF", transparency=3)
    pal16 = (np.arange(48) * 7 % 256).astype(np.uint8).tobytes()
    yield "gif_small_frame", "gif_small_frame.gif", make_gif((4, 3), (1, 1, 2, 2), [5, 6, 7, 8], pal16, 4)
    yield "gif_frame_off_screen", "gif_frame_off_screen.gif", \
        make_gif((4, 3), (0, 0, 5, 4), list(range(15)) + [1] * 5, pal16, 4)
    yield "gif_short_palette", "gif_short_palette.gif", \
        make_gif((4, 3), (0, 0, 4, 3), list(range(12)), pal16[:12], 4)
    yield "gif_no_eoi", "gif_no_eoi.gif", \
        make_gif((4, 3), (0, 0, 4, 3), list(range(12)), pal16, 4, eoi=False)
    idx = np.array(small.quantize(200))
    yield "gif_handmade_interlaced", "gif_handmade_interlaced.gif", make_gif(
        (113, 75), (0, 0, 113, 75), np.concatenate([idx[0::8], idx[4::8], idx[2::4], idx[1::2]]).ravel(),
        bytes(small.quantize(200).getpalette()[:600]), 8, interlace=True)
    yield "gif_animated", "gif_animated.gif", \
        encode(small, "GIF", save_all=True, append_images=[small.rotate(180)], duration=100)


PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "motorcycle_left.png",
          "hubble_deep_field.jpg", "camera.png")


def photo_cases(sizes=(None, 224, 1024), formats=("jpg", "png", "webp", "bmp", "tif")):
    """Real photos: every photo in every format at its own size, and as JPEG at other sizes
    (None = original; an int = that many pixels on the long side)."""
    pil_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF"}
    for src in PHOTOS:
        im = photo(src)
        im = im.convert("L" if im.mode in ("L", "I;16") else "RGB")
        stem = os.path.splitext(src)[0]
        for size in sizes:
            scaled = im
            if size is not None:
                s = size / max(im.size)
                scaled = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))),
                                   Image.BICUBIC)
            for ext in (formats if size is None else ("jpg",)):
                tag = "orig" if size is None else str(size)
                yield f"{stem}_{tag}_{ext}", f"{stem}_{tag}.{ext}", encode(scaled, pil_format[ext])


def bad_cases(truncation_sweep=True):
    small = photo("chelsea.png").convert("RGB").resize((113, 75))
    jpg = encode(small, "JPEG", quality=90)
    prog = encode(small, "JPEG", progressive=True)
    png = encode(small, "PNG")
    yield "empty", "empty.jpg", b""
    yield "text", "text.jpg", b"this is not an image, just text named .jpg\n"
    yield "random_bytes", "random.bin", bytes(np.random.default_rng(1).integers(0, 256, 4096,
                                                                           dtype=np.uint8))
    yield "jpeg_truncated_half", "jpeg_truncated_half.jpg", jpg[: len(jpg) // 2]
    yield "jpeg_truncated_no_eoi", "jpeg_truncated_no_eoi.jpg", jpg[:-2]
    yield "jpeg_truncated_progressive", "jpeg_truncated_progressive.jpg", prog[: len(prog) * 2 // 3]
    yield "jpeg_header_only", "jpeg_header_only.jpg", jpg[: jpg.index(b"\xff\xda")]
    yield "jpeg_soi_only", "jpeg_soi_only.jpg", b"\xff\xd8\xff"
    sof = jpg.index(b"\xff\xc0")
    huge = bytearray(jpg)
    struct.pack_into(">HH", huge, sof + 5, 60000, 60000)
    yield "jpeg_bomb", "jpeg_bomb.jpg", bytes(huge)
    idat = png.index(b"IDAT")
    crc = bytearray(png)
    crc[idat + 40] ^= 0x55
    yield "png_bad_crc", "png_bad_crc.png", bytes(crc)
    ihdr = bytearray(png)
    ihdr[16 + 3] ^= 0x01  # width changed, IHDR CRC now wrong
    yield "png_bad_ihdr_crc", "png_bad_ihdr_crc.png", bytes(ihdr)
    yield "png_truncated", "png_truncated.png", png[: len(png) // 2]
    yield "png_no_iend", "png_no_iend.png", png[:-12]
    yield "png_signature_only", "png_signature_only.png", png[:8]
    yield "png_bomb", "png_bomb.png", png_bomb(30000, 30000)
    yield "png_one_pixel", "png_one_pixel.png", encode(small.resize((1, 1)), "PNG")
    yield "png_1x100000", "png_1x100000.png", make_png(np.zeros((100000, 1), np.uint8), 0, 8)
    yield "png_100000x1", "png_100000x1.png", make_png(np.zeros((1, 100000), np.uint8), 0, 8)
    bmp = encode(small, "BMP")
    yield "bmp_truncated", "bmp_truncated.bmp", bmp[: len(bmp) // 2]
    webp = encode(small, "WEBP")
    yield "webp_truncated", "webp_truncated.webp", webp[: len(webp) // 2]
    tif = encode(small, "TIFF")
    yield "tiff_truncated", "tiff_truncated.tif", tif[: len(tif) // 2]
    gif = encode(small, "GIF")
    yield "gif_truncated", "gif_truncated.gif", gif[: len(gif) // 2]
    pal16 = (np.arange(48) * 7 % 256).astype(np.uint8).tobytes()
    yield "gif_early_eoi", "gif_early_eoi.gif", make_gif((4, 3), (0, 0, 4, 3), range(6), pal16, 4)
    if truncation_sweep:
        for label, data in (("jpeg", jpg), ("jpeg_prog", prog), ("png", png)):
            cuts = sorted(set(np.linspace(2, len(data) - 1, 24).astype(int).tolist()
                              + [len(data) - 1, len(data) - 2, len(data) - 3]))
            for cut in cuts:
                ext = "png" if label == "png" else "jpg"
                yield f"cut_{label}_{cut}", f"cut_{label}_{cut}.{ext}", data[:cut]


def pil_reference(data, mode):
    """(array, None) as PIL decodes data to mode, or (None, PIL's error message).
    Mode "RGB+exif" is ImageOps.exif_transpose(im).convert("RGB")."""
    try:
        im = Image.open(io.BytesIO(data))
        if mode.endswith("+exif"):
            im = ImageOps.exif_transpose(im)
            mode = mode[:-5]
        return np.array(im.convert(mode)), None
    except Exception as e:  # noqa: BLE001 - any refusal is the reference
        msg = re.sub(r"<_io.BytesIO object at 0x[0-9a-f]+>", "<bytes>", str(e) or type(e).__name__)
        return None, msg.replace("\t", " ").replace("\n", " ")


def write_set(out_dir, cases, references=True):
    os.makedirs(out_dir, exist_ok=True)
    lines = []
    for name, file_name, data in cases:
        with open(os.path.join(out_dir, file_name), "wb") as f:
            f.write(data)
        if not references:
            lines.append(f"{name}\t{file_name}\t-\t-")
            continue
        for mode in MODES + (("RGB+exif",) if "exif" in name else ()):
            arr, err = pil_reference(data, mode)
            if err is not None:
                lines.append(f"{name}\t{file_name}\t{mode}\terror:{err}")
                continue
            npy = f"{name}.{mode}.npy"
            np.save(os.path.join(out_dir, npy), np.ascontiguousarray(arr.astype(np.uint8)))
            lines.append(f"{name}\t{file_name}\t{mode}\tnpy:{npy}")
    with open(os.path.join(out_dir, "manifest.tsv"), "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return len(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", required=True, help="output folder; each set goes in OUT/<set>/")
    p.add_argument("--set", action="append", choices=("formats", "photos", "bad", "all"),
                   help="repeatable; default all")
    p.add_argument("--no-references", action="store_true",
                   help="write only the image files (faster; for benchmarks)")
    args = p.parse_args(argv)
    sets = {"formats": format_cases, "photos": photo_cases, "bad": bad_cases}
    chosen = args.set or ["all"]
    for name in (sets if "all" in chosen else dict.fromkeys(chosen)):
        n = write_set(os.path.join(args.out, name), sets[name](), references=not args.no_references)
        print(f"{name}: {n} entries in {os.path.join(args.out, name)}", file=sys.stderr)


if __name__ == "__main__":
    main()
