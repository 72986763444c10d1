"""Decode an untrusted product image's bytes to RGBA under a pixel cap.

    data = fetch_image_bytes(spec.product_image_url, limits=settings.fetch, allow_local_files=False)
    rgba = decode_product_image(data, max_pixels=settings.fetch.max_pixels)  # (h, w, 4) uint8

Only the parsers of the allowed formats are tried, and the pixel cap is checked from the
header before any pixel is decoded, so a small file claiming huge dimensions costs nothing.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import ProductImageInvalid, ProductImageTooLarge

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
# Magic numbers of formats we refuse, so the message can name what was sent.
REFUSED_MAGIC = ((b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"%PDF", "PDF"), (b"8BPS", "PSD"),
                 (b"\x00\x00\x01\x00", "ICO"), (b"\xff\x0a", "JPEG XL"),
                 (b"\x00\x00\x00\x0cJXL", "JPEG XL"))


def decode_product_image(data: bytes, *, max_pixels: int) -> np.ndarray:
    """RGBA uint8 (h, w, 4), upright per EXIF; the first frame of an animation."""
    if not data:
        raise ProductImageInvalid("The product image is empty (0 bytes).", details={"size": 0})
    image = _open_image(data)
    width, height = image.size
    if width * height > max_pixels:  # from the header, before any pixel is decoded
        raise ProductImageTooLarge(
            f"The product image is {width}x{height}, over the {max_pixels}-pixel limit.",
            details={"width": width, "height": height, "limit": max_pixels})
    try:
        image.load()  # LOAD_TRUNCATED_IMAGES stays False, so a cut-off file fails here
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        raise ProductImageInvalid(f"The product image is damaged or truncated ({exc}).",
                                  details={"format": image.format}) from exc
    return _to_rgba(image)


def _open_image(data: bytes) -> Image.Image:
    """The image with only its header read; only the allowed formats' parsers are tried."""
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ProductImageTooLarge(f"The product image has too many pixels ({exc}).",
                                   details={"size": len(data)}) from exc
    except UnidentifiedImageError as exc:
        kind = _refused_format(data)
        reason = (f"is {kind}, not one of PNG, JPEG, WebP, GIF, BMP" if kind
                  else "is not an image in a supported format (PNG, JPEG, WebP, GIF, BMP)")
        details = {"format": kind, "allowed": list(ALLOWED_FORMATS)}
        raise ProductImageInvalid(f"The product image {reason}.", details=details) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ProductImageInvalid(f"The product image has a damaged header ({exc}).",
                                  details={"size": len(data)}) from exc
    if image.width <= 0 or image.height <= 0:
        raise ProductImageInvalid("The product image has zero size.", details={"size": len(data)})
    return image


def _refused_format(data: bytes) -> str | None:
    """A name for data we will not decode, so the message can say what it was."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in head:
        return "an SVG drawing"
    if head.startswith(b"<"):
        return "an HTML/XML document"
    if data[4:8] == b"ftyp":
        return "an AVIF image" if data[8:11] == b"avi" else "a HEIF image"
    return next((f"a {name} file" for magic, name in REFUSED_MAGIC if data.startswith(magic)), None)


def _to_rgba(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey: Pillow's convert would clip to 255 instead of scaling.
        grey = np.clip(np.asarray(image, dtype=np.float64) / 257.0, 0, 255).round().astype(np.uint8)
        image = Image.fromarray(grey)
    if image.mode == "CMYK":
        image = image.convert("RGB")
    return np.array(image.convert("RGBA"), dtype=np.uint8)
