"""Known frames for a fake camera: Chromium plays a Y4M file as the camera with
`--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE.y4m` (looping it).

The frames are the lecture model's generated shapes (cnnviz.datasets), each class held for `hold` frames,
drawn 2x into a 320x240 frame's centre column: the crop the live view makes for a 120x60 model (the
centre 120x240 of the frame) is the shape again, so the model's prediction says which shape is on screen.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz import datasets

W, H = 320, 240


def shape_frames(classes=("circle", "square", "triangle", "cross"), seed: int = 3) -> list[np.ndarray]:
    """One 240x320 uint8 grayscale frame per class, in this order."""
    out = []
    for i, kind in enumerate(classes):
        shape = datasets.draw(kind, 120, 60, np.random.default_rng([seed, i]))
        big = Image.fromarray((shape * 255).astype(np.uint8)).resize((120, 240), Image.Resampling.BILINEAR)
        frame = Image.new("L", (W, H), int(shape[0, 0] * 255))
        frame.paste(big, ((W - 120) // 2, 0))
        out.append(np.asarray(frame))
    return out


def photo_frames(names=("coffee", "chelsea", "rocket", "astronaut")) -> list[np.ndarray]:
    """The gallery's photos as 240x320 RGB frames (centre crop to 4:3)."""
    from PIL import ImageOps

    from cnnviz import images

    return [np.asarray(ImageOps.fit(images.load_sample(n).convert("RGB"), (W, H))) for n in names]


def _yuv420(frame: np.ndarray) -> bytes:
    """Y', Cb, Cr planes (video range, chroma 2x2 averaged) of a grayscale or RGB uint8 frame."""
    a = np.asarray(frame)
    if a.ndim == 2:
        y, cb, cr = a.astype(np.float32), None, None
    else:
        ycc = np.asarray(Image.fromarray(a, "RGB").convert("YCbCr"), dtype=np.float32)
        y, cb, cr = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    h, w = y.shape
    planes = [(16 + y * (219 / 255)).round().astype(np.uint8).tobytes()]
    for c in (cb, cr):
        if c is None:
            planes.append(bytes([128]) * ((w // 2) * (h // 2)))
        else:
            small = c[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
            planes.append((128 + (small - 128) * (224 / 255)).round().astype(np.uint8).tobytes())
    return b"".join(planes)


def write_y4m(path: Path, frames: list[np.ndarray], hold: int = 60, fps: int = 30) -> Path:
    """A Y4M (4:2:0) of the frames (grayscale or RGB uint8), each repeated `hold` times (hold 60 at 30 fps:
    2 s each)."""
    h, w = np.asarray(frames[0]).shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            data = _yuv420(frame)  # Y' from levels (full range in, video range out), as a camera's YUV would be
            for _ in range(hold):
                f.write(b"FRAME\n")
                f.write(data)
    return path


def write_video(path: Path, frames: list[np.ndarray], hold: int = 30, fps: int = 30, codec: str | None = None) -> Path:
    """A webm (VP8) or mp4 (H.264) of the grayscale frames, each held `hold` frames (PyAV, test-only)."""
    import av

    codec = codec or ("libvpx" if path.suffix == ".webm" else "libx264")
    h, w = frames[0].shape
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for frame in frames:
            rgb = np.repeat(np.asarray(frame, dtype=np.uint8)[..., None], 3, axis=-1)
            for _ in range(hold):
                for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
