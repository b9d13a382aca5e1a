"""scenec: compiles .scene files into Wan reference-to-video requests and renders them."""

__version__ = "0.1.0"
