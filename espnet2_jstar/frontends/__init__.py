"""Front-ends: single-channel log-mel fallback and the fixed-beamformer bank (CONTRACTS.md §2).

``FRONTEND_CHOICES`` maps the YAML ``frontend:`` names to classes for the task's ClassChoices.
"""

from espnet2_jstar.frontends.beamformer import BeamformerFrontend
from espnet2_jstar.frontends.fbank import SingleChannelFbank

FRONTEND_CHOICES = {"fbank": SingleChannelFbank, "beamformer": BeamformerFrontend}

__all__ = ["BeamformerFrontend", "SingleChannelFbank", "FRONTEND_CHOICES"]
