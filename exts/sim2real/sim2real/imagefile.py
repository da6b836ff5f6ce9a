"""Image files from outside (a camera folder, a dataset on disk, a bag message): decoded, or one line.

Pillow reports a bad file in many ways: ``UnidentifiedImageError`` (an ``OSError``) for an unknown
or damaged header, ``OSError`` for truncated or broken pixel data, ``SyntaxError`` for a broken PNG
chunk, ``ValueError``/``struct.error``/``EOFError`` from its parsers, ``DecompressionBombError`` for
a header that claims billions of pixels; numpy's ``.npy`` reader adds ``ValueError`` and
``EOFError``. ``load_image`` turns all of them into an ``InputError`` naming the file and what is
wrong; ``describe`` words one of them for readers that decode bytes themselves.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from os import PathLike
from pathlib import Path

import numpy as np

from .errors import InputError

# What we decode: what cameras, our writer and bag messages use. Fewer decoders is less attack surface
# (Pillow's JPEG decoder also opens the multi-picture JPEGs some cameras write).
FORMATS = ("PNG", "JPEG", "BMP")


@cache
def unreadable() -> tuple[type[BaseException], ...]:
    """The exceptions a decoder raises on bytes that are not a readable image (or ``.npy`` array)."""
    from PIL import Image

    return (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error, zlib.error,
            Image.DecompressionBombError)


def describe(exc: BaseException) -> str:
    """What is wrong with a file, in a few words, from the exception a decoder raised on it."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(exc, FileNotFoundError):
        return "missing (no such file)"
    if isinstance(exc, UnidentifiedImageError):  # its message holds a memory address: not worth showing
        return "not a readable image (not a PNG, JPEG or BMP file, or its header is damaged)"
    if isinstance(exc, Image.DecompressionBombError):
        return f"refused: {exc}"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"cannot be read ({exc.strerror})"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"damaged image data ({text})"


def load_image(source: str | PathLike[str] | bytes, name: str | None = None, mode: str | None = None) -> np.ndarray:
    """The pixels of a PNG, JPEG or BMP file (or of its bytes), converted to Pillow ``mode`` if given.

    ``name`` is how messages call the file (default: its path). Decoding is finished here, so a
    truncated file fails now with its name rather than later inside a resize.
    """
    from PIL import Image

    stream: io.BytesIO | Path
    if isinstance(source, bytes):
        where, stream = name or "image data", io.BytesIO(source)
        size = len(source)
    else:
        where, stream = name or str(source), Path(source)
        try:
            size = stream.stat().st_size
        except OSError as exc:
            raise InputError(f"{where}: {describe(exc)}") from None
    if size == 0:
        raise InputError(f"{where}: empty file (0 bytes); expected an image")
    try:
        with Image.open(stream, formats=FORMATS) as img:
            img.load()
            return np.asarray(img.convert(mode) if mode is not None and img.mode != mode else img)
    except unreadable() as exc:
        raise InputError(f"{where}: {describe(exc)}") from None
