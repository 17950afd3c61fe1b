"""squeezehome firmware: signed bundles, flashing, over-the-air updates, TensorFlow Lite Micro export."""
