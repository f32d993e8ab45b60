"""The command line: `aestudy`, `python -m aestudy` and `python -m lib` are one parser table; each
help shows an example; unknown commands and options get one line naming the nearest, exit 2; the
project is found from the parameter file, so the command works from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import tomllib

from aestudy import cli, config

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_console_script_and_module_entry_points_are_declared():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"aestudy": "aestudy.cli:main"}
    assert (REPO_ROOT / "lib" / "aestudy" / "__main__.py").is_file()


@pytest.mark.parametrize("command", [None, *cli.COMMANDS])
def test_every_help_shows_one_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    examples = [ln for ln in out.splitlines() if ln.startswith("example: aestudy ")]
    assert len(examples) == 1, out
    if command:
        assert examples[0].split()[2] == command
    else:
        assert "--root DIR" in out and "holds the parameter file" in out  # how the project is found


@pytest.mark.parametrize(
    "argv, line",
    [
        (
            ["rnu", "params/smoke.yaml"],
            "aestudy: error: unknown command 'rnu' (did you mean 'run'?); see aestudy --help",
        ),
        (
            ["run", "params/smoke.yaml", "--wokers", "2"],
            "aestudy run: error: unknown option --wokers (did you mean '--workers'?); see aestudy run --help",
        ),
        (
            ["status", "--forse", "params/smoke.yaml"],
            "aestudy status: error: unknown option --forse; see aestudy status --help",
        ),
        (
            ["render"],
            "aestudy render: error: the following arguments are required: PARAMS_FILE; see aestudy render --help",
        ),
    ],
)
def test_unknown_commands_and_options_get_one_line_with_the_nearest_name(argv, line, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == line + "\n"


def test_a_parameter_file_is_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli._find("params/smoke.yaml") == str(config.PROJECT_ROOT / "params" / "smoke.yaml")
    assert cli._find("smoke") == str(config.PROJECT_ROOT / "params" / "smoke.yaml")
    (tmp_path / "mine.yaml").write_text("profile: x\n")
    assert cli._find("mine.yaml") == "mine.yaml"  # a file here wins
    assert cli._find("nowhere.yaml") == "nowhere.yaml"  # named as given in the loader's error


def fake_checkout(root: Path) -> Path:
    (root / "lib" / "aestudy").mkdir(parents=True)
    (root / "lib" / "aestudy" / "__init__.py").write_text("")
    (root / "notebooks").mkdir()
    (root / "params").mkdir()
    (root / "params" / "p.yaml").write_text("profile: p\n")
    return root


def test_the_project_is_the_checkout_holding_the_parameter_file(tmp_path, monkeypatch):
    monkeypatch.delenv("AESTUDY_ROOT", raising=False)
    other = fake_checkout(tmp_path / "other")
    args = cli.build_parser().parse_args(["status", str(other / "params" / "p.yaml")])
    assert cli.checkout_of(other / "params") == other.resolve()
    assert cli.project_root(args) == other.resolve()  # run with that checkout's package
    here = cli.build_parser().parse_args(["status", str(REPO_ROOT / "params" / "smoke.yaml")])
    assert cli.project_root(here) is None  # this checkout: no detour
    loose = tmp_path / "loose.yaml"
    loose.write_text("profile: p\n")
    assert cli.project_root(cli.build_parser().parse_args(["status", str(loose)])) is None
    chosen = cli.build_parser().parse_args(["--root", str(other), "status", str(loose)])
    assert cli.project_root(chosen) == other.resolve()
    assert cli._without_root(["--root", str(other), "status", "x", "--root=y"]) == ["status", "x"]


def test_root_may_follow_the_command_as_users_write_it(tmp_path):
    """`aestudy run P --root DIR` is `aestudy --root DIR run P` (it was 'unknown option --root
    (did you mean '--root'?)')."""
    parse = cli.build_parser().parse_args
    after = parse(["run", "params/smoke.yaml", "--root", str(tmp_path)])
    assert after.root == str(tmp_path) and after.params_file == "params/smoke.yaml"
    assert parse(["--root", str(tmp_path), "run", "params/smoke.yaml"]).root == str(tmp_path)
    assert parse(["run", "params/smoke.yaml"]).root is None
    assert cli._without_root(["status", "x", "--root", str(tmp_path)]) == ["status", "x"]


def test_a_root_that_is_not_a_checkout_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AESTUDY_ROOT", raising=False)
    assert cli.main(["--root", str(tmp_path), "status", "smoke"]) == 2
    assert (
        capsys.readouterr().err == f"error: --root {tmp_path}: not a checkout of this project "
        "(no lib/aestudy/ and notebooks/)\n"
    )


def test_a_root_from_the_environment_that_is_not_a_checkout_names_the_variable(tmp_path, capsys, monkeypatch):
    """A stale AESTUDY_ROOT left in the shell was named as '--root', an option nobody gave."""
    monkeypatch.setenv("AESTUDY_ROOT", str(tmp_path))
    assert cli.main(["status", "smoke"]) == 2
    assert capsys.readouterr().err == (
        f"error: AESTUDY_ROOT={tmp_path} (the environment): not a checkout of this project "
        "(no lib/aestudy/ and notebooks/)\n"
    )


def test_python_dash_m_aestudy_runs_from_another_folder(tmp_path):
    env = {"PYTHONPATH": str(REPO_ROOT / "lib"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "aestudy", "run", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("usage: python -m aestudy run ") and "example: python -m aestudy run" in out
    lib = subprocess.run([sys.executable, "-m", "lib", "rnu"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert lib.returncode == 2 and lib.stderr.startswith("python -m lib: error: unknown command 'rnu'")


def _data_not_found():
    try:  # where the dataset's files are told apart from torch's side (aestudy.datafiles), else science.data
        from aestudy.datafiles import DataNotFoundError
    except ImportError:
        from aestudy.science.data import DataNotFoundError
    return DataNotFoundError


def _errors():
    """Every error of the project's, built as it is raised, with the exit status the CLI gives it
    and the builtin it also is (so `except ValueError` etc. still catch it)."""
    from aestudy import files, messages, metrics
    from aestudy.report import html, pdf
    from aestudy.runner import cluster, slurm

    return [
        (messages.ParamsError("params/x.yaml: lr: bad"), 2, ValueError),
        (cluster.NotShared("worker w1: cannot see reports/"), 2, ValueError),
        (slurm.SlurmError("sbatch: refused"), 2, ValueError),
        (_data_not_found()("no MNIST under data/"), 2, RuntimeError),
        (files.WriteFailed(28, "No space left on device", "reports/x/runs.json"), 1, OSError),
        (files.CorruptArtifact("reports/x/complete.json: cannot read JSON"), 1, RuntimeError),
        (metrics.ContractBroken("run/metrics.json: x: field required"), 1, Exception),
        (pdf.PdfToolMissing("report.pdf: no Chromium found"), 1, RuntimeError),
        (html.RenderToolMissing("rendering the report needs nbconvert"), 1, RuntimeError),
    ]


@pytest.mark.parametrize("index", range(9))
def test_every_error_is_one_line_and_its_exit_status(index, monkeypatch, capsys):
    from aestudy.errors import StudyError

    error, code, builtin = _errors()[index]
    assert isinstance(error, StudyError) and isinstance(error, builtin) and error.exit_code == code

    def command(args):
        raise error

    monkeypatch.setitem(cli._COMMAND_FUNCTIONS, "status", command)
    assert cli.main(["status", "smoke"]) == code
    assert capsys.readouterr().err == f"error: {error}\n"


def test_the_cli_maps_errors_in_one_place_without_importing_the_science():
    source = (REPO_ROOT / "lib" / "aestudy" / "cli.py").read_text()
    assert "science" not in source and "DataNotFoundError" not in source
    assert source.count("except StudyError") == 1 and "except ParamsError" not in source


def test_executors_are_a_registry_whose_names_are_the_options_choices():
    from aestudy.runner import executors

    registry = executors.registry()
    assert list(registry) == ["local", "dask", "slurm"]
    for name, cls in registry.items():
        assert cls.name == name and set(cls.options) <= {"workers", "scheduler", "cluster"}
        assert callable(cls.create) and callable(cls.run_graph) and hasattr(cls, "__enter__")
    run = next(
        a
        for a in cli.build_parser()._subparsers._group_actions[0].choices["run"]._actions
        if a.dest == "executor"
    )
    assert tuple(run.choices) == tuple(registry)
    source = (REPO_ROOT / "lib" / "aestudy" / "cli.py").read_text()
    assert '"dask"' not in source and '"slurm"' not in source.split("def _cluster")[0]


def test_a_bare_profile_name_is_the_current_checkouts_before_this_packages(tmp_path, monkeypatch):
    """In a second clone, `aestudy status p` (or `compare p q`) means that clone's params/p.yaml
    and runs with that clone's package; it used to read this package's checkout without saying so."""
    monkeypatch.delenv("AESTUDY_ROOT", raising=False)
    other = fake_checkout(tmp_path / "other")
    (other / "params" / "smoke.yaml").write_text("profile: smoke\n")
    monkeypatch.chdir(other / "notebooks")
    assert cli._find("p") == str(other.resolve() / "params" / "p.yaml")
    assert cli._find("smoke") == str(other.resolve() / "params" / "smoke.yaml")  # not this checkout's
    assert cli.project_root(cli.build_parser().parse_args(["status", "p"])) == other.resolve()
    assert cli.project_root(cli.build_parser().parse_args(["compare", "p", "smoke"])) == other.resolve()
    assert cli._find("default") == str(
        config.PROJECT_ROOT / "params" / "default.yaml"
    )  # not there: this one's


def test_contradictory_options_and_a_reports_dir_that_is_a_file_are_bad_input(tmp_path, capsys, monkeypatch):
    """Each is refused before any run: --force with --no-retrain (every run reported failed with
    an empty reason, the report re-rendered so), --scheduler without the dask executor (ignored),
    and a REPORTS_DIR that is a file (`status` said every run was absent)."""
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    assert cli.main(["run", "smoke", "--force", "--no-retrain"]) == 2
    assert capsys.readouterr().err == (
        "error: --force and --no-retrain contradict each other: the first executes every run, the second none\n"
    )
    assert cli.main(["run", "smoke", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "--scheduler is for --executor dask (this command's executor: local)" in capsys.readouterr().err
    assert cli.main(["run", "smoke", "--job-memory", "4GB"]) == 2  # was ignored without a word
    assert "--job-memory is for --executor slurm (this command's executor: local)" in capsys.readouterr().err
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("REPORTS_DIR", str(afile))
    for command in ("status", "run", "render"):
        assert cli.main([command, "smoke"]) == 2
        assert (
            capsys.readouterr().err
            == f"error: REPORTS_DIR={afile}: {afile} is a file, not a folder for the runs\n"
        )
    assert not (tmp_path / "reports").exists()  # nothing was made


def test_render_of_a_profile_never_run_is_one_line_and_makes_no_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    assert cli.main(["render", "smoke"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no runs to render; run `python -m lib run " in err, err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "reports" / "smoke").exists()


def test_a_scheduler_address_where_nothing_answers_is_bad_input_within_the_wait(
    tmp_path, capsys, monkeypatch
):
    """It was exit 1 after dask's own 30 s; now one line naming the option, exit 2, no run."""
    import socket

    from aestudy.runner import executors

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["run", "smoke", "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", "--no-render"]
    assert cli.main(args) == 2
    errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(
        f"error: --scheduler tcp://127.0.0.1:{port}: no Dask scheduler answered within 1 s"
    )
    assert not list((tmp_path / "reports").glob("*/runs/*/*/complete.json"))


def test_a_second_signal_while_the_command_winds_down_ends_it_without_a_traceback(tmp_path):
    """Ctrl-C or SIGTERM twice: the second arrives while Python's exit handlers wait (multiprocessing
    joins the stopped workers); the command ends at once, exit 130, its one line the last it printed."""
    script = tmp_path / "twice.py"
    script.write_text(
        textwrap.dedent(
            """
            import atexit, os, signal, sys, time
            from aestudy import cli

            def winding_down():  # as multiprocessing's exit handler joining the workers
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(30)

            atexit.register(winding_down)

            def interrupted(args):
                raise KeyboardInterrupt("signal 15")

            cli._COMMAND_FUNCTIONS["status"] = interrupted
            sys.argv = ["aestudy", "status", "smoke"]
            sys.exit(cli.main())  # as the command: a caller in its own process keeps its handlers
            """
        )
    )
    repo = Path(__file__).resolve().parents[1]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(repo / "lib")},
    )
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("interrupted: completed runs are kept"), proc.stderr
    assert time.monotonic() - started < 25  # it did not wait out the exit handler
