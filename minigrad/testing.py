"""Testing helpers: ``gradcheck``, the test every op must pass (it lives in the engine:
:mod:`minigrad.engine.gradcheck`)."""
from .engine.gradcheck import gradcheck

__all__ = ["gradcheck"]
