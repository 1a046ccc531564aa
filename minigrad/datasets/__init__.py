"""Datasets minigrad can load: ``minigrad.datasets.mnist.load_data()``."""
from . import mnist

__all__ = ["mnist"]
