"""Images as textures: decoding an image file to a texture's size, and the texture library.

The library holds the images a profile may put on materials (``Profile.texture_files()``), each made a
texture of its own at load, once per 2D texture shape the scene's materials use. Choosing one of them
is then a switch of the material's ``mat_texid``: no copy into ``tex_data``, no upload to the renderer
per frame (the renderer uploads every model texture once, when it is made). The pixels are exactly what
the copy path writes into the material's own texture (Pillow, bilinear, to that texture's size), so a
frame has the same bytes either way. Images beyond ``LIBRARY_BYTES`` and images the library was not
told about take the copy path (``visuals.Materials``).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import mujoco
import numpy as np
from PIL import Image

from ...errors import InputError
from ...imagefile import describe, unreadable

log = logging.getLogger(__name__)

RGB_ROLE = int(mujoco.mjtTextureRole.mjTEXROLE_RGB)
LIBRARY_BYTES = 32 << 20  # texture data the library may add; every model copy (snapshots, recompiles) holds it
LIBRARY_PREFIX = "sim2real:library:"
IMAGE_CACHE_BYTES = 64 << 20  # decoded, resized images kept in memory for the copy path (at least the latest)

# (width, height, channels, colour space) of a 2D texture: the images of one shape are interchangeable
Shape = tuple[int, int, int, int]
Library = dict[tuple[str, Shape], str]  # (image path, shape) -> name of the texture holding it


def decode(path: str, width: int, height: int, channels: int, key: str) -> np.ndarray:
    """The image file at ``path`` as a texture's flat uint8 pixels (resized, bilinear; alpha dropped
    for RGB)."""
    file = Path(path)
    try:
        with Image.open(file) as img:
            mode = "RGBA" if channels == 4 else "RGB" if channels == 3 else "L"
            pixels = np.asarray(img.convert(mode).resize((width, height), Image.Resampling.BILINEAR))
    except FileNotFoundError:
        raise InputError(f"{key}: expected an image file (no such file {file})") from None
    except unreadable() as exc:
        raise InputError(f"{key}: expected a PNG or JPG image ({file}: {describe(exc)})") from None
    return pixels.reshape(-1).copy()


class ImageCache:
    """Images decoded and resized to a texture's size, the most recently used kept within ``max_bytes``
    (bytes, not a count: a profile with many large images must not grow the process without bound)."""

    def __init__(self, max_bytes: int = IMAGE_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict[tuple[str, int, int, int], np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, path: str, width: int, height: int, channels: int, key: str) -> np.ndarray:
        ident = (path, width, height, channels)
        if ident in self._items:
            self._items.move_to_end(ident)
            return self._items[ident]
        pixels = self._items[ident] = decode(path, width, height, channels, key)
        self.nbytes += pixels.nbytes
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            self.nbytes -= self._items.popitem(last=False)[1].nbytes
        return pixels


def shape_of(model: mujoco.MjModel, texture: int) -> Shape:
    return (int(model.tex_width[texture]), int(model.tex_height[texture]), int(model.tex_nchannel[texture]),
            int(model.tex_colorspace[texture]))


def material_shapes(model: mujoco.MjModel) -> list[Shape]:
    """The shapes of the 2D textures the scene's materials show as colour, in texture order."""
    out: dict[Shape, None] = {}
    for tex in model.mat_texid[:, RGB_ROLE]:
        if tex >= 0 and model.tex_type[tex] == mujoco.mjtTexture.mjTEXTURE_2D:
            out[shape_of(model, int(tex))] = None
    return list(out)


def add_library(spec: mujoco.MjSpec, model: mujoco.MjModel, images: list[str]) -> Library:
    """Add to ``spec`` one texture per (image, material texture shape) of ``model`` (its compilation),
    within ``LIBRARY_BYTES``; returns which texture holds what. The caller recompiles."""
    library: Library = {}
    budget = LIBRARY_BYTES
    for shape in material_shapes(model):
        width, height, channels, colorspace = shape
        for path in images:
            size = width * height * channels
            if size > budget:
                log.info("texture library full (%d MiB): further images are copied into the materials' "
                         "textures when chosen", LIBRARY_BYTES >> 20)
                return library
            budget -= size
            name = f"{LIBRARY_PREFIX}{len(library)}"
            tex = spec.add_texture(name=name, type=mujoco.mjtTexture.mjTEXTURE_2D, width=width, height=height,
                                   nchannel=channels, colorspace=mujoco.mjtColorSpace(colorspace))
            tex.data = decode(path, width, height, channels, f"texture library: {path}").tobytes()
            library[(path, shape)] = name
    return library
