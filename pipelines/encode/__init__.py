"""Every ffmpeg call of the render: the frame encoder, the audio encode, the mux.

    ffmpeg.py   ffmpeg_exe, run_ffmpeg (argv as a list, a timeout, stderr mapped), audio helpers
    codecs.py   VideoCodec: libx264 and NVENC settings, NVENC probed once per process
    encoder.py  FrameEncoder (frames streamed through a bounded queue), encode_audio, mux
"""

from pipelines.encode.codecs import VideoCodec, codec_for_profile
from pipelines.encode.encoder import FrameEncoder, encode_audio, mux
from pipelines.encode.ffmpeg import ffmpeg_exe, run_ffmpeg

__all__ = ["FrameEncoder", "VideoCodec", "codec_for_profile", "encode_audio", "ffmpeg_exe", "mux",
           "run_ffmpeg"]
