"""Grids of square cells drawn with PIL: colours, outlines, row and column numbers, numbers in cells.

Shared by the Layer lab's footprint grid and the step-by-step pages' number grids: an image is drawn by
a browser in a few milliseconds, a plotly chart in tens to hundreds. Text is digits only (the default
font has no Korean); titles in words are the page's to write above them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.plots.activations import put_text, text_width

WHITE = (255, 255, 255)
INK = (90, 90, 90)
MARGIN_LEFT, MARGIN_TOP = 26, 16


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


HATCH_INK = (95, 95, 95)  # dark grey: the hatching and crosses differ from their cells in lightness, not only hue
HATCH_SPACING = 5  # px between the hatching's diagonal lines


def hatch_mask(where: np.ndarray, cell: int, spacing: int = HATCH_SPACING) -> np.ndarray:
    """The pixels of diagonal lines (／, one every `spacing` px) over the (rows, cols) cells `where` of a
    draw_cells picture: padding is hatched, so it is told from the input without its colour."""
    big = np.repeat(np.repeat(np.asarray(where, dtype=bool), cell, axis=0), cell, axis=1)
    y, x = np.indices(big.shape)
    return big & ((x + y) % spacing == 0)


def cross_mask(where: np.ndarray, cell: int) -> np.ndarray:
    """The pixels of a × in the middle of each (rows, cols) cell `where` of a draw_cells picture."""
    margin = max(1, cell // 4)
    y, x = np.indices((cell, cell))
    inside = (y >= margin) & (y < cell - margin) & (x >= margin) & (x < cell - margin)
    one = inside & ((np.abs(x - y) <= cell // 16) | (np.abs(x + y - (cell - 1)) <= cell // 16))
    return np.kron(np.asarray(where, dtype=bool), one).astype(bool)


def draw_cells(colours: np.ndarray, cell: int, gap: int, hatched: np.ndarray | None = None,
               crossed: np.ndarray | None = None) -> Image.Image:
    """(rows, cols, 3) colours as square cells of `cell` px with `gap` px of white between them; the
    (rows, cols) bool cells `hatched` get diagonal lines and `crossed` a × (HATCH_INK), so that what their
    colour says is said without colour too."""
    n_r, n_c = colours.shape[:2]
    big = np.repeat(np.repeat(np.asarray(colours, dtype="uint8"), cell, axis=0), cell, axis=1)
    if hatched is not None:
        big[hatch_mask(hatched, cell)] = HATCH_INK
    if crossed is not None:
        big[cross_mask(crossed, cell)] = HATCH_INK
    if gap:
        mask = np.zeros((n_r * cell, n_c * cell), bool)
        mask[cell - gap::cell, :] = True
        mask[:, cell - gap::cell] = True
        big[mask] = 255
    return Image.fromarray(big, "RGB")


def outline(img: Image.Image, cells, cell: int, colour: str, width: int) -> None:
    """Outline each (row, col) cell of a draw_cells image (before with_indices adds its margins)."""
    draw = ImageDraw.Draw(img)
    for r, c in cells:
        draw.rectangle([c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1], outline=rgb(colour), width=width)


def write_numbers(img: Image.Image, text: list[list[str]], cell: int, ink: np.ndarray) -> None:
    """Write text[r][c] centred in each cell; ink (rows, cols) True for white text on dark cells."""
    for r, row in enumerate(text):
        for c, s in enumerate(row):
            if s:
                put_text(img, (c * cell + (cell - text_width(s)) / 2, r * cell + (cell - 11) / 2 - 1), s,
                         WHITE if ink[r, c] else (25, 25, 25))


def dark(colours: np.ndarray) -> np.ndarray:
    """Cells whose colour needs white text (relative luminance below one half)."""
    c = np.asarray(colours, dtype="float64") / 255
    return (0.2126 * c[..., 0] + 0.7152 * c[..., 1] + 0.0722 * c[..., 2]) < 0.5


def with_indices(cells: Image.Image, rows, cols, cell: int) -> Image.Image:
    """The cell picture with row numbers on the left and column numbers on top (every k-th one)."""
    out = Image.new("RGB", (cells.width + MARGIN_LEFT, cells.height + MARGIN_TOP), WHITE)
    out.paste(cells, (MARGIN_LEFT, MARGIN_TOP))
    step = max(1, int(np.ceil(22 / cell)))  # one number per ~22 px
    for i, r in enumerate(rows):
        if i % step == 0:
            put_text(out, (1, MARGIN_TOP + i * cell + (cell - 11) // 2), str(int(r)), INK)
    for j, c in enumerate(cols):
        if j % step == 0:
            put_text(out, (MARGIN_LEFT + j * cell + 2, 1), str(int(c)), INK)
    return out
