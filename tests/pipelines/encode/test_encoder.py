import subprocess

import av
import numpy as np
import pytest

from engine.errors import EncoderError
from pipelines.encode.encoder import FrameEncoder, VideoCodec


def _decode_rgb(path):
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_streamed_frames_come_back_with_their_colours_in_bt709(tmp_path):
    colours = [(200, 40, 40), (30, 160, 60), (20, 60, 200), (128, 128, 128)]
    out = tmp_path / "v.mp4"
    with FrameEncoder(out, width=64, height=96, fps=30, codec=VideoCodec(crf=10)) as enc:
        for colour in colours:
            for _ in range(5):
                enc.write(np.full((96, 64, 3), colour, np.uint8))
    frames = _decode_rgb(out)
    assert len(frames) == 20
    for index, colour in enumerate(colours):
        mean = frames[index * 5 + 2].reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - colour).max() < 6, (colour, mean)


def test_the_stream_is_tagged_bt709_limited_range_high_profile(tmp_path):
    out = tmp_path / "v.mp4"
    with FrameEncoder(out, width=64, height=64, fps=30) as enc:
        for _ in range(3):
            enc.write(np.zeros((64, 64, 3), np.uint8))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=profile,pix_fmt,color_space,color_primaries,color_transfer,color_range,r_frame_rate",
         "-of", "default=nw=1", str(out)], capture_output=True, text=True, check=True).stdout
    for line in ("profile=High", "pix_fmt=yuv420p", "color_space=bt709", "color_primaries=bt709",
                 "color_transfer=bt709", "color_range=tv", "r_frame_rate=30/1"):
        assert line in probe


def test_a_frame_of_the_wrong_size_is_refused(tmp_path):
    with FrameEncoder(tmp_path / "v.mp4", width=64, height=64, fps=30) as enc:
        with pytest.raises(ValueError, match="64x64x3"):
            enc.write(np.zeros((32, 64, 3), np.uint8))
        enc.write(np.zeros((64, 64, 3), np.uint8))


def test_a_dead_ffmpeg_surfaces_as_an_encoder_error_not_a_hang(tmp_path):
    enc = FrameEncoder(tmp_path / "v.mp4", width=64, height=64, fps=30, timeout_s=30)
    enc._proc.kill()
    enc._proc.wait()
    with pytest.raises(EncoderError) as caught:
        for _ in range(50):
            enc.write(np.zeros((64, 64, 3), np.uint8))
        enc.close()
    assert caught.value.code == "ENCODER_FAILED"
