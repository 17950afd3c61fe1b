"""The project's own smart-home data: schema, name lists, templates, examples (read with importlib.resources)."""

from pathlib import Path

SAMPLE_DATA_DIR = Path(__file__).resolve().parent
