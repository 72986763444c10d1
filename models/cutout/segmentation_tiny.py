"""Random segmentation checkpoints in the layout `SegmentationCutout` loads, for tests and
GPU smoke runs.

    write_random_segmentation(tmp_path / "segmentation", size="tiny")   # seconds, ~100 KB
    write_random_segmentation(models / "segmentation", size="full")     # UperNet + ConvNeXt-S

The files are written by the libraries' own `save_pretrained` (config.json, model.safetensors,
preprocessor_config.json), so loading them runs exactly the code that loads a real checkpoint.
"full" is UperNet on a ConvNeXt-small backbone at 512 x 512 input, the architecture of
`openmmlab/upernet-convnext-small` that scripts/fetch_models.py fetches, so it runs at real
speed; "tiny" is the same architecture with a few channels. Both carry the 150 ADE20K class
names, so a profile's label lists are checked against them as against the real model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# ADE20K's 150 classes (SceneParsing objectInfo150 order), as segmentation configs name them.
ADE20K_LABELS = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain",
    "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug",
    "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub",
    "railing", "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter",
    "sand", "sink", "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs",
    "runway", "case", "pool table", "pillow", "screen door", "stairway", "river", "bridge",
    "bookcase", "blind", "coffee table", "toilet", "flower", "book", "hill", "bench",
    "countertop", "stove", "palm", "kitchen island", "computer", "swivel chair", "boat", "bar",
    "arcade machine", "hovel", "bus", "towel", "light", "truck", "tower", "chandelier",
    "awning", "streetlight", "booth", "television receiver", "airplane", "dirt track",
    "apparel", "pole", "land", "bannister", "escalator", "ottoman", "bottle", "buffet",
    "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy", "washer",
    "plaything", "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag",
    "minibike", "cradle", "oven", "ball", "food", "step", "tank", "trade name", "microwave",
    "pot", "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture", "hood",
    "sconce", "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen", "plate",
    "monitor", "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)
SIZES: dict[str, dict[str, Any]] = {
    # ConvNeXt-small: depths 3-3-27-3, widths 96-192-384-768; UperNet head 512 wide.
    "full": {"depths": [3, 3, 27, 3], "hidden_sizes": [96, 192, 384, 768], "head": 512,
             "input_px": 512},
    "tiny": {"depths": [1, 1, 1, 1], "hidden_sizes": [8, 16, 32, 64], "head": 16,
             "input_px": 64},
}


def write_random_segmentation(root: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """Write a randomly initialised UperNet/ConvNeXt checkpoint under `root`; returns `root`."""
    import torch
    from transformers import (
        ConvNextConfig,
        SegformerImageProcessor,
        UperNetConfig,
        UperNetForSemanticSegmentation,
    )

    spec = SIZES[size]
    torch.manual_seed(seed)
    backbone = ConvNextConfig(depths=spec["depths"], hidden_sizes=spec["hidden_sizes"],
                              out_features=["stage1", "stage2", "stage3", "stage4"])
    config = UperNetConfig(
        backbone_config=backbone, hidden_size=spec["head"],
        auxiliary_in_channels=spec["hidden_sizes"][2], auxiliary_channels=spec["head"] // 2,
        id2label=dict(enumerate(ADE20K_LABELS)),
        label2id={label: i for i, label in enumerate(ADE20K_LABELS)})
    root = Path(root)
    UperNetForSemanticSegmentation(config).save_pretrained(root)
    side = spec["input_px"]
    SegformerImageProcessor(size={"height": side, "width": side},
                            do_reduce_labels=False).save_pretrained(root)
    return root
