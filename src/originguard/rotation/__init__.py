"""Rotation of the secret origin header, in one package.

plan      the pure state machine: which secret-file lines each phase holds, what must reload
channel   the phase (never a secret value) shared through Redis on `og:rotation`
command   `originguard secret rotate`: drives the plan against a running stack

Importing the package loads only the pure plan (its names are re-exported here).
"""

from __future__ import annotations

from originguard.rotation.plan import TRANSITIONS, Phase, RotationEvent, RotationState, advance, phase, plan

__all__ = ["TRANSITIONS", "Phase", "RotationEvent", "RotationState", "advance", "phase", "plan"]
