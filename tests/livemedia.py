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


def write_y4m(path: Path, frames: list[np.ndarray], hold: int = 60, fps: int = 30) -> Path:
    """A Y4M (4:2:0) of the grayscale frames, each repeated `hold` times (hold 60 at 30 fps: 2 s each)."""
    h, w = frames[0].shape
    chroma = bytes([128]) * ((w // 2) * (h // 2))
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            # Y' from gray levels (full range in, video range out), as a camera's YUV would be
            y = (16 + np.asarray(frame, dtype=np.float32) * (219 / 255)).round().astype(np.uint8).tobytes()
            for _ in range(hold):
                f.write(b"FRAME\n")
                f.write(y)
                f.write(chroma)
                f.write(chroma)
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
