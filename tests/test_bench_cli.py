"""`squeezehome bench`: a suite that needs a trained model says so before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from converter.cli import main


def test_models_suite_without_a_model_directory_is_one_clear_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--suite", "models", "--model", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "needs a trained model directory" in err and str(tmp_path) in err
    assert "Traceback" not in err


def test_models_suite_gets_the_model_directory_the_user_named(tmp_path, monkeypatch):
    """A relative --model is the caller's directory, although the suite runs in the repository root."""
    import subprocess

    import converter.bench_cli as bench_cli

    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "model.keras").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    calls = []

    def record(cmd, cwd=None, **_):  # stop at the first suite: nothing is run, merged or plotted
        calls.append((cmd, cwd))
        return subprocess.CompletedProcess(cmd, 1)

    monkeypatch.setattr(bench_cli.subprocess, "run", record)
    with pytest.raises(SystemExit):
        main(["bench", "--suite", "models", "--model", "runs/r1"])
    ((cmd, cwd),) = calls
    given = Path(cmd[cmd.index("--model") + 1])
    assert (Path(cwd) / given).resolve() == (tmp_path / "runs" / "r1").resolve()
