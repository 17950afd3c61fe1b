"""squeezehome device agent: everything that runs on the board (no TensorFlow, no Keras)."""

__version__ = "0.1.0"
