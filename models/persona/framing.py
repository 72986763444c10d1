"""Frame a portrait as a selfie talking head: matted person over their own blurred background.

    layout = plan_framing(image.shape, mesh, panel_w=1080, panel_h=1920, zoom=1.0)
    panel = render_framed(image, layout, alpha=matte, plate=plate)   # (1920, 1080, 3) uint8
    panel_mesh = mesh.scaled(layout.scale, dx=layout.dx, dy=layout.dy)

The panel is always the whole frame. The eyes sit near the upper third (`EYE_LINE`), the face
is centred (9:16) or a little left of centre (1:1, 16:9: room for the product beside it),
moved on 9:16 and 1:1 towards the background's plainer side (`lean`), and
the scale is the larger of two: the one that carries the photo's bottom edge (the chest) down
to the frame's bottom edge, and the one that makes the face `FACE_WIDTH` of the frame. The
second is capped at `MAX_UPSCALE`, past which a 512-pixel portrait visibly blurs; the first is
not, since a body cut off above the frame's bottom looks worse than a soft one. `zoom` scales
about the eyes for punch-ins (> 1) and wider shots (< 1); a wider shot lowers the eye line
towards `WIDE_EYE_LINE` to keep the chest at the bottom edge, and rows a shot still leaves
under the photo continue its last rows, faded.

Behind the person, `render_framed` places the photo's clean plate (see `backdrop`), mirrored
out and blurred like portrait mode; the person comes from the photo itself (Lanczos upscale and
a mild unsharp mask), blended through the matte. Where the person meets the photo's side or
bottom edge inside the frame, the matte fades out so no straight cut shows.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.persona.backdrop import portrait_blur
from models.persona.face_mesh import LEFT_EYE, RIGHT_EYE, FaceMesh
from models.persona.panel_layout import PanelLayout

EYE_LINE = {"tall": 0.34, "square": 0.38, "wide": 0.38}  # eye height / frame height
WIDE_EYE_LINE = 0.46  # the lowest the eyes go in a wider (zoom < 1) shot
FACE_CENTRE_X = {"tall": 0.5, "square": 0.42, "wide": 0.34}  # face centre / frame width
FACE_WIDTH = {"tall": 0.38, "square": 0.32, "wide": 0.17}  # face width / frame width
# Of the frame width: how far the face moves towards the background's plainer side (a wide
# frame keeps its face left, the room on the right is for the product and the text).
LEAN = {"tall": 0.1, "square": 0.2, "wide": 0.0}
MAX_UPSCALE = 4.0
UNSHARP_AMOUNT = 0.45
EDGE_FADE = 0.04  # of the photo's long side: the matte fades out towards its edges


def shape_of(panel_w: int, panel_h: int) -> str:
    ratio = panel_w / panel_h
    return "tall" if ratio < 0.8 else "wide" if ratio > 1.25 else "square"


def plan_framing(image_shape: tuple[int, ...], mesh: FaceMesh, *, panel_w: int, panel_h: int,
                zoom: float = 1.0, lean: float = 0.0) -> PanelLayout:
    """Where the portrait goes in a `panel_w` x `panel_h` frame; `mesh` in source pixels.

    `lean` (-1..1, see `background_lean`) moves the face (9:16, 1:1) up to `LEAN` of the
    width towards the side where the background shows less, so more of the detailed side
    (a flag, a shelf) and less of a plain wall fills the frame."""
    img_h = image_shape[0]
    kind = shape_of(panel_w, panel_h)
    eye_x, eye_y = eye_centre(mesh)
    chest = (panel_h * (1.0 - EYE_LINE[kind])) / max(1.0, img_h - eye_y)
    face = FACE_WIDTH[kind] * panel_w / max(1.0, mesh.face_width_px)
    scale = max(chest, min(face, max(chest, MAX_UPSCALE))) * zoom
    # Keep the chest at the bottom edge in wider shots by lowering the eyes (within reason).
    line = EYE_LINE[kind]
    if zoom < 1.0:
        line = float(np.clip(1.0 - (img_h - eye_y) * scale / panel_h, line, WIDE_EYE_LINE))
    centre_x = (FACE_CENTRE_X[kind] + LEAN[kind] * float(np.clip(lean, -1.0, 1.0))) * panel_w
    return PanelLayout(scale, centre_x - eye_x * scale, line * panel_h - eye_y * scale,
                       panel_w, panel_h)


def background_lean(plate: np.ndarray, alpha: np.ndarray, mesh: FaceMesh) -> float:
    """-1..1: positive when the background left of the face holds more detail than the right
    (at the scale the portrait blur keeps), so the face should move right."""
    gray = cv2.cvtColor(plate, cv2.COLOR_RGB2GRAY).astype(np.float32)
    coarse = cv2.GaussianBlur(gray, (0, 0), max(1.0, 0.01 * max(gray.shape)))
    local = np.sqrt(np.maximum(cv2.GaussianBlur(coarse * coarse, (0, 0), 0.04 * max(gray.shape))
                               - cv2.GaussianBlur(coarse, (0, 0), 0.04 * max(gray.shape)) ** 2,
                               0.0))
    background = alpha < 0.05
    x = eye_centre(mesh)[0]
    columns = np.arange(gray.shape[1])[None, :]
    left, right = (float(local[background & side].mean()) if (background & side).any() else 0.0
                   for side in (columns < x, columns >= x))
    return float(np.clip((left - right) / max(1e-6, left + right), -1.0, 1.0))


def eye_centre(mesh: FaceMesh) -> tuple[float, float]:
    centre = mesh.points[list(LEFT_EYE + RIGHT_EYE)].mean(axis=0)
    return float(centre[0]), float(centre[1])


def render_framed(image: np.ndarray, layout: PanelLayout, *, alpha: np.ndarray,
                 plate: np.ndarray) -> np.ndarray:
    """The framed persona: sharp matted person over the blurred, extended clean plate."""
    size = (layout.panel_w, layout.panel_h)
    behind = portrait_blur(plate, scale=layout.scale, dx=layout.dx, dy=layout.dy,
                           width=layout.panel_w, height=layout.panel_h)
    person = _warp(image, layout, cv2.INTER_LANCZOS4)
    person = _unsharp(person, sigma=float(np.clip(0.45 * layout.scale, 0.8, 2.5)))
    weight = _warp(_faded(alpha), layout, cv2.INTER_LINEAR)
    photo_bottom = int(image.shape[0] * layout.scale + layout.dy)
    if photo_bottom < layout.panel_h:
        _fade_extension(person, weight, photo_bottom)
    w = weight[..., None]
    return (person * w + behind * (1.0 - w) + 0.5).astype(np.uint8)


def _warp(image: np.ndarray, layout: PanelLayout, interpolation: int) -> np.ndarray:
    scale, dx, dy = layout.scale, layout.dx, layout.dy
    if scale < 1.0:
        # A warp does not low-pass; shrink with area averaging first.
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image, scale = cv2.resize(image, size, interpolation=cv2.INTER_AREA), 1.0
    matrix = np.float64([[scale, 0.0, dx], [0.0, scale, dy]])
    return cv2.warpAffine(image, matrix, (layout.panel_w, layout.panel_h), flags=interpolation,
                          borderMode=cv2.BORDER_REPLICATE)


def _faded(alpha: np.ndarray) -> np.ndarray:
    """The matte, falling to 0 at the photo's left, right and top edges (not the bottom: the
    bottom rows are continued downwards when the frame reaches past them)."""
    h, w = alpha.shape
    band = max(2.0, EDGE_FADE * max(h, w))
    xs = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    fx = np.clip(np.minimum(xs, w - 1 - xs) / band, 0.0, 1.0)
    fy = np.clip(ys / band, 0.0, 1.0)
    return (alpha * fy[:, None] * fx[None, :]).astype(np.float32)


def _fade_extension(person: np.ndarray, weight: np.ndarray, start: int) -> None:
    """Rows below the photo: its last rows' colours smoothed wide, the matte fading out."""
    h, w = person.shape[:2]
    start = max(1, start)
    tail = person[start - 1:start].astype(np.float32)
    tail = cv2.GaussianBlur(tail, (0, 0), sigmaX=w / 40, sigmaY=0.1)
    person[start:] = np.clip(tail, 0, 255).astype(np.uint8)
    rows = np.arange(h - start, dtype=np.float32)[:, None]
    fade = np.clip(1.0 - rows / max(1.0, 0.15 * h), 0.0, 1.0)
    weight[start:] = weight[start - 1:start] * fade


def _unsharp(panel: np.ndarray, *, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(panel, (0, 0), sigma)
    return cv2.addWeighted(panel, 1.0 + UNSHARP_AMOUNT, blurred, -UNSHARP_AMOUNT, 0.0)
