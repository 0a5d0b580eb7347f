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
    "TargetChain",
    "params_from_dict",
]
