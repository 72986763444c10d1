"""The MuseTalk 1.5 UNet configuration kept in the repo builds the release's real-size network.

One real-size test (about 3.4 GB of fp32 weights, saved and reloaded once): the parameter count
is derived below from the SD-1.x UNet and must equal what the config builds.
"""

from __future__ import annotations

import json

import torch

from models.persona.musetalk.config import UNET_CONFIG, ReleaseLayout
from models.persona.musetalk.loader import build_unet, load_unet, read_unet_config

# Stable Diffusion 1.x UNet (4 input channels, 768-d text cross-attention): 859,520,964
# parameters. MuseTalk's conv_in reads 8 channels (+4 x 320 x 3 x 3) and its cross-attention
# keys and values read 384-d audio instead of 768-d text (-2 x 384 x the inner width of each
# of the 16 transformer blocks: 2 x 320, 2 x 640, 2 x 1280 down, 1280 mid, 3 x each up).
SD1_UNET_PARAMS = 859_520_964
BLOCK_WIDTHS = 2 * (320 + 640 + 1280) + 1280 + 3 * (1280 + 640 + 320)
MUSETALK_UNET_PARAMS = SD1_UNET_PARAMS + 4 * 320 * 9 - 2 * (768 - 384) * BLOCK_WIDTHS
RELEASE_UNET_BYTES = 3.4e9  # musetalkV15/unet.pth on the model hub, "3.4 GB"


def test_the_kept_config_is_the_sd1_block_layout_with_musetalks_three_changes():
    config = json.loads(UNET_CONFIG.read_text())
    assert config["block_out_channels"] == [320, 640, 1280, 1280]
    assert config["layers_per_block"] == 2 and config["attention_head_dim"] == 8
    assert config["down_block_types"] == ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"]
    assert config["up_block_types"] == ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3
    assert (config["in_channels"], config["out_channels"], config["cross_attention_dim"]) \
        == (8, 4, 384)
    assert read_unet_config(UNET_CONFIG) == config


def test_a_real_size_unet_has_the_release_parameter_count_and_reloads_strictly(tmp_path):
    config = read_unet_config(UNET_CONFIG)
    unet = build_unet(config).to_empty(device="cpu")  # shapes only: values below, not init
    count = sum(p.numel() for p in unet.parameters())
    assert count == MUSETALK_UNET_PARAMS == 849_947_844
    assert abs(4 * count - RELEASE_UNET_BYTES) < 0.01 * RELEASE_UNET_BYTES
    with torch.no_grad():
        for i, tensor in enumerate(unet.state_dict().values()):
            tensor.fill_(i / 1000)  # distinct per tensor, so a swapped key would show
    layout = ReleaseLayout(tmp_path)
    layout.unet_config.parent.mkdir(parents=True)
    layout.unet_config.write_text(UNET_CONFIG.read_text())
    try:
        torch.save(unet.state_dict(), layout.unet_weights)  # as the release stores it
        del unet
        loaded = load_unet(layout.unet_config, layout.unet_weights)
        assert sum(p.numel() for p in loaded.parameters()) == MUSETALK_UNET_PARAMS
        for i, (key, tensor) in enumerate(loaded.state_dict().items()):
            assert tensor.dtype == torch.float32 and not tensor.is_meta, key
            assert tensor.flatten()[0].item() == torch.tensor(i / 1000).item(), key
    finally:  # pytest keeps recent temp dirs; do not leave 3.4 GB behind in each
        layout.unet_weights.unlink(missing_ok=True)
