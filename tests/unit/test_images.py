"""cnnviz.images on a generated set of odd and bad files (all made here with Pillow or by hand)."""

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from cnnviz import images
from cnnviz.images import ImageError, load_image, preprocess


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def gradient(w=64, h=48) -> Image.Image:
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    a[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    a[..., 2] = 90
    return Image.fromarray(a, "RGB")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds no pixel data: a decompression-bomb header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# --- refused ------------------------------------------------------------------------------------


def refused(data: bytes) -> str:
    with pytest.raises(ImageError) as err:
        load_image(data)
    assert isinstance(err.value, ValueError)
    return str(err.value)


def test_empty_file():
    assert "empty" in refused(b"")


def test_random_bytes():
    data = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    assert "not an image" in refused(data)


def test_text_named_png():
    assert "not an image" in refused(b"This is a text file, not a picture.\n" * 20)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(fmt):
    data = encode(gradient(400, 300), fmt)
    msg = refused(data[: len(data) // 2])
    assert "truncated" in msg or "damaged" in msg


def test_truncated_even_when_someone_allowed_truncated_images():
    data = encode(gradient(400, 300), "JPEG")
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        refused(data[: len(data) // 2])
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


def test_damaged_png_data():
    data = bytearray(encode(gradient(200, 100), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 60] = b"\x00" * 50  # corrupt the compressed pixels
    assert "damaged" in refused(bytes(data)) or "truncated" in refused(bytes(data))


def test_decompression_bomb_is_refused_from_the_header_without_allocating():
    data = png_header_only(20000, 20000)  # 400 megapixels: 1.2 GB if decoded
    tracemalloc.start()
    try:
        msg = refused(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too large" in msg and "400 megapixels" in msg and "limit is 40 megapixels" in msg
    assert peak < 5_000_000, peak


def test_just_over_the_cap_is_refused_with_the_limit():
    msg = refused(png_header_only(8000, 5001))  # 40.008 megapixels, below Pillow's own limit
    assert "8000x5001" in msg and "limit is 40 megapixels" in msg


def test_too_many_bytes():
    assert "too large" in refused(b"\x89PNG" + b"\x00" * (images.MAX_BYTES + 1))


@pytest.mark.parametrize("fmt,name", [("TIFF", "TIFF"), ("ICO", "ICO"), ("PDF", "PDF"), ("PPM", "PPM")])
def test_unsupported_format_is_named(fmt, name):
    msg = refused(encode(gradient(32, 32), fmt))
    assert name in msg and "not supported" in msg and "PNG" in msg


# --- accepted, odd -------------------------------------------------------------------------------


def test_plain_formats_accepted():
    for fmt in ["PNG", "JPEG", "GIF", "BMP"] + (["WEBP"] if features.check("webp") else []):
        im = load_image(encode(gradient(), fmt))
        assert im.mode == "RGB" and im.size == (64, 48)
        assert im.info[images.INFO_FORMAT] == fmt
        assert images.frames(im) == 1


def test_one_pixel():
    im = load_image(encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"))
    assert im.size == (1, 1) and im.getpixel((0, 0)) == (10, 200, 30)
    x = preprocess(im, (120, 60, 1))
    assert x.shape == (120, 60, 1)
    assert images.heavily_distorted(im, (120, 60, 1))  # blown up 120 times


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_one_by_3000(fit):
    im = load_image(encode(Image.new("L", (1, 3000), 200), "PNG"))
    assert im.size == (1, 3000)
    x = preprocess(im, (120, 60, 1), fit=fit)
    assert x.shape == (120, 60, 1) and x.dtype == np.float32
    assert x.max() == pytest.approx(200 / 255, abs=1e-6)
    assert images.heavily_distorted(im, (120, 60, 1))


def test_16_bit_grayscale_is_scaled_not_clipped():
    a = np.repeat(np.linspace(0, 65535, 256).round().astype(np.uint16)[None, :], 4, axis=0)
    src = Image.frombytes("I;16", (256, 4), a.astype("<u2").tobytes())
    data = encode(src, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit file
    im = load_image(data)
    g = np.asarray(im)[..., 0].astype(int)
    assert g.min() == 0 and g.max() == 255
    assert abs(int(g[0, 128]) - 128) <= 2  # mid grey stays mid grey (clipping would make it 255)
    assert len(np.unique(g)) > 200


def test_cmyk_jpeg_converted():
    src = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # cyan 0, magenta and yellow full: red
    im = load_image(encode(src, "JPEG", quality=95))
    r, g, b = im.getpixel((8, 8))
    assert im.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_palette_with_transparency_over_white():
    src = Image.new("P", (8, 8), 0)
    src.putpalette([0, 0, 255] + [255, 0, 0] * 255)  # index 0 blue, index 1 red
    src.putpixel((0, 0), 1)
    data = encode(src, "PNG", transparency=0)  # index 0 is transparent
    im = load_image(data)
    assert im.getpixel((0, 0)) == (255, 0, 0)
    assert im.getpixel((4, 4)) == (255, 255, 255)  # transparent: white, not the hidden blue


def test_la_and_rgba_transparency():
    la = Image.new("LA", (4, 4), (0, 0))  # black, fully transparent
    la.putpixel((0, 0), (0, 255))  # one opaque black pixel
    im = load_image(encode(la, "PNG"))
    assert im.getpixel((0, 0)) == (0, 0, 0) and im.getpixel((2, 2)) == (255, 255, 255)
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 128))  # half-transparent red over white: pink
    r, g, b = load_image(encode(rgba, "PNG")).getpixel((1, 1))
    assert r == 255 and 120 < g < 135 and g == b


def test_one_bit():
    src = Image.new("1", (10, 10), 0)
    src.putpixel((3, 3), 1)
    for fmt in ("PNG", "BMP"):
        im = load_image(encode(src, fmt))
        assert im.getpixel((3, 3)) == (255, 255, 255) and im.getpixel((0, 0)) == (0, 0, 0)


def test_animated_gif_first_frame_and_frame_count():
    frames = [Image.new("RGB", (20, 10), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    im = load_image(data)
    assert images.frames(im) == 3
    r, g, b = im.getpixel((5, 5))
    assert r > 200 and g < 50 and b < 50


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_animated_webp_first_frame():
    frames = [Image.new("RGB", (20, 10), c) for c in [(0, 255, 0), (255, 0, 0)]]
    data = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    im = load_image(data)
    assert images.frames(im) == 2 and im.getpixel((5, 5)) == (0, 255, 0)


def test_exif_orientation_applied():
    src = Image.new("RGB", (20, 10), (0, 0, 255))
    src.paste((255, 0, 0), (0, 0, 10, 10))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    im = load_image(encode(src, "JPEG", exif=exif.tobytes(), quality=95))
    assert im.size == (10, 20)
    top, bottom = im.getpixel((5, 2)), im.getpixel((5, 17))
    assert top[0] > 200 and top[2] < 60  # the left edge became the top
    assert bottom[2] > 200 and bottom[0] < 60


def test_samples_all_load():
    for name in images.SAMPLES:
        im = images.load_sample(name)
        assert im.mode == "RGB" and min(im.size) > 100
    with pytest.raises(ImageError):
        images.sample_bytes("nope")


# --- preprocessing ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(120, 60, 1), (64, 64, 3), (32, 32, 1)])
@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_preprocess_shape_dtype_range(shape, fit):
    x = preprocess(images.load_sample("chelsea"), shape, fit=fit)
    assert x.shape == shape and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.5


def test_pad_keeps_whole_image_and_zero_fills():
    x = preprocess(Image.new("RGB", (100, 100), (255, 255, 255)), (120, 60, 1), fit="pad")
    assert x[0].max() == 0.0 and x[-1].max() == 0.0  # zero rows above and below the square
    assert x[60, :, 0].min() == pytest.approx(1.0)  # the full width is image
    assert 59 <= int((x[:, 30, 0] > 0.5).sum()) <= 61  # the square is 60 pixels tall


def test_crop_cuts_the_centre():
    a = np.zeros((100, 300), np.uint8)
    a[:, 100:200] = 255  # the white middle third
    x = preprocess(Image.fromarray(a, "L"), (64, 64, 1), fit="crop")
    assert x[:, 2:-2].min() > 0.99  # the square centre crop is white (edges blend a little when resampled)
    assert x.min() > 0.8


def test_grayscale_and_rgb_conversion():
    red = Image.new("RGB", (10, 10), (255, 0, 0))
    assert preprocess(red, (8, 8, 1))[4, 4, 0] == pytest.approx(76 / 255, abs=1 / 255)  # ITU-R 601 luma
    gray = Image.new("L", (10, 10), 100)
    np.testing.assert_allclose(preprocess(gray, (8, 8, 3))[4, 4], [100 / 255] * 3, atol=1e-6)


def test_preprocess_bad_arguments():
    im = Image.new("RGB", (10, 10))
    with pytest.raises(ValueError):
        preprocess(im, (8, 8, 2))
    with pytest.raises(ValueError):
        preprocess(im, (8, 8))
    with pytest.raises(ValueError, match="fit"):
        preprocess(im, (8, 8, 1), fit="stretch")


def test_not_distorted_for_similar_aspect():
    assert not images.heavily_distorted(Image.new("RGB", (320, 253)), (64, 64, 3))
    assert not images.heavily_distorted(Image.new("RGB", (60, 120)), (120, 60, 1))


def test_to_image_round_trip():
    x = preprocess(images.load_sample("camera"), (120, 60, 1))
    im = images.to_image(x)
    assert im.mode == "L" and im.size == (60, 120)
    np.testing.assert_allclose(np.asarray(im) / 255.0, x[..., 0], atol=1 / 255)
    assert images.to_image(preprocess(gradient(), (64, 64, 3))).mode == "RGB"


def test_every_refusal_reads_the_same_in_every_language():
    """Each ImageError code has a UI text in every language, taking the same values."""
    import string

    from cnnviz import i18n

    for code, english in images.MESSAGES.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        for lang in i18n.LANGUAGES:
            text = i18n.texts(lang)[f"images.error.{code}"]
            assert {f for _, f, _, _ in string.Formatter().parse(text) if f} == fields, (code, lang)
    err = ImageError("too_large_size", width=1, height=2, limit=40)
    assert err.code == "too_large_size" and str(err) == i18n.t("images.error.too_large_size", "en", **err.values)
