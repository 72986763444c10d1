"""The render: the orchestrator and one module per stage; subsystems in their own folders.

    from pipelines import RenderPipeline
    result = RenderPipeline(registry=registry, catalog=catalog, settings=settings).run(spec, out_dir=out)

    render.py     RenderPipeline: U-Gen's stage keys in order (the stage table is at its top)
    contract.py   the output contract's numbers: FPS, AUDIO_RATE, loudness, CONTRACT_FILES
    product.py    [prepare]    product image fetched, cut out, as a sprite or a card
    script.py     [agents]     the brief for the script writer, the script written
    voice.py      [init]       the script spoken and placed on the timeline (VoiceTrack)
    scene.py      [init]       the scene's layers built for the job (BuiltScene)
    generate.py   [generation] persona -> compositor -> encoder, streamed (Lookahead)
    artifacts.py  [complete]   thumbnail, storyboard, script.json, report files published
    audio/        mix.py (music bed, ducking, mix_track), loudness.py (one measured gain)
    captions/     track.py (CaptionTrack, WebVTT), style.py, font.py, pages.py, raster.py
    compose/      compositor.py (Scene, layers), layout.py (where things go), endcard.py
    encode/       ffmpeg.py (every ffmpeg call), codecs.py (x264, NVENC), encoder.py (FrameEncoder)

Rules that keep it tidy (tests/test_layers.py checks the first):
- pipelines import models (protocols and registry) and the engine leaves, never engine.worker
  or engine.bench; nothing here measures or compares a render (that is engine/bench/).
- ffmpeg runs only through encode/; the output contract's numbers live only in contract.py.
- Three modules that share a prefix become a folder; no module is named utils, helpers,
  misc, setup or glue; a module's tests live at the mirrored path under tests/pipelines/.
"""

from pipelines.contract import CONTRACT_FILES
from pipelines.render import RenderPipeline, RenderResult

__all__ = ["CONTRACT_FILES", "RenderPipeline", "RenderResult"]
