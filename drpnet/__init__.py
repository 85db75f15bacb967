"""drpnet: particle picking in cryo-EM micrographs with deep regression (DRPnet)."""

__version__ = "0.1.0"
