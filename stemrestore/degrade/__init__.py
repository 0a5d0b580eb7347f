"""The degradation set F and the training-example protocol (SPEC §2-3).

Effects come as settings (ranges, ``sample(rng)``) and sampled parameters
(``apply(audio, sr)``)::

    params = ParametricEQ().sample(np.random.default_rng(0))
    degraded = params.apply(audio, 44100)

Chains of effects and the whole protocol::

    chain = TargetChain().sample(rng)           # an EffectChain
    proto = DegradationProtocol()               # or DegradationProtocol.from_yaml(path)
    ex = proto(target, background, sr=44100, seed=7)
    proto.replay(ex.params, target, background, sr=44100)

The studio mode (correlated per-class channel strips and a mastering chain
with a loudness target, docs/studio.md) has the same interface::

    proto = StudioProtocol()                    # or DegradationProtocol.from_yaml("configs/degradation/studio.yaml")
    ex = proto(target, background, sr=44100, seed=7, target_class="Voc")
"""

from stemrestore.degrade.base import Effect, Params, RangeError, params_from_dict
from stemrestore.degrade.chain import EffectChain, MixtureChain, TargetChain
from stemrestore.degrade.codec import MP3Codec, MP3Params, ResampleParams, Resampling
from stemrestore.degrade.dynamics import Compressor, CompressorParams, Limiter, LimiterParams
from stemrestore.degrade.effects import (
    Distortion,
    DistortionParams,
    Gain,
    GainParams,
    Noise,
    NoiseParams,
    Reverb,
    ReverbParams,
)
from stemrestore.degrade.eq import EQ, EQBand, GraphicEQ, GraphicEQParams, ParametricEQ, ParametricEQParams
from stemrestore.degrade.protocol import FORMAT, DegradationProtocol, Example, ProtocolConfig
from stemrestore.degrade.studio import StudioConfig, StudioProtocol
from stemrestore.degrade.studio_master import MasteringSettings, integrated_loudness
from stemrestore.degrade.studio_strips import StripSettings

__all__ = [
    "EQ",
    "FORMAT",
    "Compressor",
    "CompressorParams",
    "DegradationProtocol",
    "Distortion",
    "DistortionParams",
    "EQBand",
    "Effect",
    "EffectChain",
    "Example",
    "Gain",
    "GainParams",
    "GraphicEQ",
    "GraphicEQParams",
    "Limiter",
    "LimiterParams",
    "MP3Codec",
    "MP3Params",
    "MasteringSettings",
    "MixtureChain",
    "Noise",
    "NoiseParams",
    "ParametricEQ",
    "ParametricEQParams",
    "Params",
    "ProtocolConfig",
    "RangeError",
    "ResampleParams",
    "Resampling",
    "Reverb",
    "ReverbParams",
    "StripSettings",
    "StudioConfig",
    "StudioProtocol",
    "TargetChain",
    "integrated_loudness",
    "params_from_dict",
]
