"""Schema-driven training data: template expansion, importers, custom YAML data, augmentation, labelling.

Example:
    >>> from converter.data import build_datasets
    >>> data = build_datasets(seed=0)                         # doctest: +SKIP
    >>> data.summary()["dev"]                                 # doctest: +SKIP
    {'slurp_iot': 1681, 'unseen_names': 534, 'handwritten': 236}
"""

from converter.data.datasets import Datasets, build_datasets, load_handwritten
from converter.data.example import Example, SlotSpan, read_examples, read_jsonl, write_jsonl

__all__ = [
    "Datasets",
    "Example",
    "SlotSpan",
    "build_datasets",
    "load_handwritten",
    "read_examples",
    "read_jsonl",
    "write_jsonl",
]
