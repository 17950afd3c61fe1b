"""`squeezehome bench`: a suite that needs a trained model says so before anything runs."""

from __future__ import annotations

import pytest

from converter.cli import main


def test_models_suite_without_a_model_directory_is_one_clear_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--suite", "models", "--model", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "needs a trained model directory" in err and str(tmp_path) in err
    assert "Traceback" not in err
