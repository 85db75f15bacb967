"""A stand-in for torchvision with only what Topaz imports (rotate, hflip, vflip), for the benchmark's Topaz venv.

PyPI's torchvision wheels are CUDA builds that fail to import beside the CPU build of torch; Topaz's picking path
never calls these functions, its training path does, so they are implemented, not stubbed.
"""

from torchvision import transforms

__all__ = ["transforms"]
