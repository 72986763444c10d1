"""Product cut-outs: the `CutoutBackend` protocol's backends.

    classical.py          ClassicalCutout: alpha, plain-background flood fill or photo card (CPU)
    segmentation.py       SegmentationCutout: a semantic-segmentation model (GPU profile)
    segmentation_tiny.py  a random-weight segmentation model in the same layout, for tests
"""

from models.cutout.classical import ClassicalCutout
from models.cutout.segmentation import SegmentationCutout

__all__ = ["ClassicalCutout", "SegmentationCutout"]
