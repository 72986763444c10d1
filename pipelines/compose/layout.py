"""Where things go in the frame, per aspect ratio, as fractions turned into pixels.

    layout = layout_for(1080, 1920)
    layout.panel      # Box of the persona panel in frame pixels
    layout.product    # Box the product (holdable) or its card (display_static) fits inside

Everything a viewer must read or see stays inside the platforms' safe zones (TikTok/Reels/Shorts:
clear of the top ~13 %, the bottom ~22 % and the right ~16 % on 9:16); captions get the band
below the product, the end card uses the middle of the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.base import Box


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    panel: Box  # persona panel; equals the frame when the persona fills it
    product: Box  # holdable product box
    card: Box  # display_static product card box
    end_product: Box  # product on the end card
    end_text: Box  # CTA text block on the end card

    @property
    def panel_fills_frame(self) -> bool:
        return self.panel == Box(0, 0, self.width, self.height)


def _box(w: int, h: int, x0: float, y0: float, x1: float, y1: float) -> Box:
    x, y = round(w * x0), round(h * y0)
    return Box(x, y, round(w * x1) - x, round(h * y1) - y)


def layout_for(width: int, height: int) -> Layout:
    """Layout for a frame; the aspect ratio picks the arrangement."""
    ratio = width / height
    if ratio < 0.8:  # 9:16, a selfie close-up; the product held up on the chest, clear of the face
        return Layout(width, height, Box(0, 0, width, height),
                      product=_box(width, height, 0.56, 0.70, 0.90, 0.86),
                      card=_box(width, height, 0.54, 0.70, 0.90, 0.86),
                      end_product=_box(width, height, 0.20, 0.22, 0.80, 0.50),
                      end_text=_box(width, height, 0.09, 0.52, 0.84, 0.62))
    if ratio > 1.25:  # 16:9, the persona framed left of centre, product on the right
        return Layout(width, height, Box(0, 0, width, height),
                      product=_box(width, height, 0.56, 0.14, 0.90, 0.66),
                      card=_box(width, height, 0.56, 0.12, 0.90, 0.68),
                      end_product=_box(width, height, 0.10, 0.15, 0.45, 0.80),
                      end_text=_box(width, height, 0.50, 0.30, 0.92, 0.60))
    return Layout(width, height, Box(0, 0, width, height),  # 1:1, face left of centre
                  product=_box(width, height, 0.64, 0.46, 0.94, 0.82),
                  card=_box(width, height, 0.62, 0.46, 0.94, 0.84),
                  end_product=_box(width, height, 0.28, 0.12, 0.72, 0.52),
                  end_text=_box(width, height, 0.10, 0.55, 0.90, 0.70))


def fit_inside(content_w: int, content_h: int, box: Box) -> Box:
    """The largest box with the content's aspect ratio, centred in `box` (never distorts)."""
    scale = min(box.w / content_w, box.h / content_h)
    w, h = max(1, round(content_w * scale)), max(1, round(content_h * scale))
    return Box(box.x + (box.w - w) // 2, box.y + (box.h - h) // 2, w, h)
