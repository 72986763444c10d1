"""The image-and-text half of Qwen2-VL's processor: what the keyframe pipeline's prompt encoder needs.

    processor = ImageTextProcessor.from_folder(Path("/models/qwen-image-edit/processor"))
    inputs = processor(text=["Picture 1: <|vision_start|><|image_pad|><|vision_end|>..."],
                       images=[persona], padding=True, return_tensors="pt")
    inputs["input_ids"], inputs["pixel_values"], inputs["image_grid_thw"]

`transformers.Qwen2VLProcessor` also builds a video processor, which needs torchvision even
when no video is passed; torchvision has no build for the CPU-only torch this engine installs.
This class reads the same `processor/` folder (the tokenizer and `preprocessor_config.json`)
and does what Qwen2VLProcessor does for images: each `<|image_pad|>` becomes one token per
merged vision patch of its image (grid t*h*w / merge_size^2), then the text is tokenized.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

IMAGE_TOKEN = "<|image_pad|>"


class ImageTextProcessor:
    def __init__(self, image_processor: Any, tokenizer: Any) -> None:
        self.image_processor, self.tokenizer = image_processor, tokenizer

    @classmethod
    def from_folder(cls, folder: Path) -> ImageTextProcessor:
        from transformers import AutoTokenizer
        from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil

        return cls(Qwen2VLImageProcessorPil.from_pretrained(str(folder), local_files_only=True),
                   AutoTokenizer.from_pretrained(str(folder), local_files_only=True))

    def __call__(self, *, text: Sequence[str], images: Sequence[Any] | None = None,
                 padding: bool = True, return_tensors: str = "pt") -> Any:
        from transformers import BatchFeature

        data: dict[str, Any] = {}
        if images is not None:
            vision = self.image_processor(images=list(images), return_tensors=return_tensors)
            merge = self.image_processor.merge_size ** 2
            counts = iter(int(n) for n in vision["image_grid_thw"].prod(-1) // merge)
            text = [expand_image_tokens(t, counts) for t in text]
            data.update(vision)
        data.update(self.tokenizer(list(text), padding=padding, return_tensors=return_tensors))
        return BatchFeature(data)


def expand_image_tokens(text: str, counts: Iterator[int]) -> str:
    """Each image placeholder repeated once per vision token of the next image."""
    first, *rest = text.split(IMAGE_TOKEN)
    return first + "".join(IMAGE_TOKEN * next(counts) + part for part in rest)
