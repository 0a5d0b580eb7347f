"""The command line as a user meets it: help for every command, one-line errors, exit codes."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from stemrestore.cli import build_parser, main

EXPECTED = {
    "degrade", "synth", "index", "split", "analyze", "make-testset", "train", "restore",
    "evaluate", "score", "convert", "average", "demo", "serve",
}


def _commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_every_expected_command_is_registered():
    assert EXPECTED <= _commands()


@pytest.mark.parametrize("command", sorted(EXPECTED))
def test_help_of_each_command(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert command in capsys.readouterr().out


def test_every_command_line_of_the_readme_tour_parses():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    tour = readme.split("## A tour of the command line")[1].split("```bash")[1].split("```")[0]
    argvs = [shlex.split(line.split("#")[0])[1:] for line in tour.splitlines() if line.startswith("stemrestore ")]
    assert {argv[0] for argv in argvs} >= EXPECTED
    parser = build_parser()
    for argv in argvs:
        assert parser.parse_args(argv).command == argv[0]  # an unknown option exits with status 2


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_user_error_is_one_line_and_exit_2(tmp_path):
    # A real process, to see exactly what a user sees on stderr.
    missing = tmp_path / "nope"
    proc = subprocess.run(
        [sys.executable, "-m", "stemrestore", "make-testset", str(missing), "--out", str(tmp_path / "o"), "--n", "1"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stemrestore make-testset: error:")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv", [["-v", "make-testset"], ["make-testset", "--verbose"]])
def test_verbose_shows_the_traceback_before_or_after_the_command(argv, tmp_path, capsys):
    args = [*argv, str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--n", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("stemrestore make-testset: error:")
