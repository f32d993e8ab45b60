"""The command line: `aestudy run|status|render|compare|tidy-notebooks` (also `python -m aestudy`,
and `python -m lib` from the project root). `COMMANDS` is the parser table: one entry per command
with its help, one example and its arguments; each command is one small function below it.

Exit status: 0 all runs ok, 1 some run failed (or a file could not be written), 2 bad input
(parameter file, dataset, an unknown command or option), 130 interrupted. An error of the
project's (`aestudy.errors.StudyError`) is one line and its `exit_code`, mapped in `main` alone.
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
from pathlib import Path

DESCRIPTION = """\
An MNIST autoencoder study run as papermill notebooks into one report.

Works from any folder. The project is the checkout that holds the parameter file (the nearest
folder above it with lib/aestudy/ and notebooks/), else --root DIR (or $AESTUDY_ROOT), else the
checkout this command is installed from. A PARAMS_FILE not found from the current folder is looked
up in the project, and a bare profile name means params/<name>.yaml there.
"""
PARAMS = (("params_file",), dict(metavar="PARAMS_FILE", help="a parameter file, e.g. params/default.yaml"))
NO_PDF = (
    ("--no-pdf",),
    dict(
        action="store_true",
        help="write report.html only: printing the PDF (headless Chromium) is about a third of a render; "
        "a report.pdf from an earlier render is removed, as it no longer matches",
    ),
)

# name -> (help, example, arguments); the function of a command is `_<name>` (dashes as underscores)
COMMANDS = {
    "run": (
        "execute every run of a parameter file that is not up to date, then render the report",
        "run params/default.yaml --workers 2",
        [
            PARAMS,
            (("--workers",), dict(type=int, default=1, help="independent runs executed at once (default 1)")),
            (
                ("--executor",),
                dict(
                    choices=None,
                    default="local",  # the registry's names (build_parser)
                    help="local: this machine (--workers processes); dask: a Dask cluster "
                    "(--scheduler); slurm: Dask workers in SLURM jobs (the options "
                    "below; docs/cluster.md)",
                ),
            ),
            (("--scheduler",), dict(default=None, help="Dask scheduler address (default: a LocalCluster)")),
            (("--force",), dict(action="store_true", help="re-execute every run, ignoring the cache")),
            (
                ("--no-retrain",),
                dict(action="store_true", help="never execute a run: fail naming what is missing or corrupt"),
            ),
            (("--stage",), dict(action="append", help="only this stage (repeatable)")),
            (
                ("--retries",),
                dict(
                    type=int,
                    default=0,
                    metavar="N",
                    help="execute a run again, up to N times, when its kernel died or it passed "
                    "its time limit (`timeout:` in the parameter file); not when its code "
                    "raised",
                ),
            ),
            (
                ("--fresh-kernels",),
                dict(
                    action="store_true",
                    help="start a kernel for every run instead of reusing each worker's "
                    "(slower; the numbers are the same)",
                ),
            ),
            (
                ("--seeds-together",),
                dict(
                    action="store_true",
                    help="train the seeds of each autoencoder cell (same d and num_conv) as one job: "
                    "one kernel, one optimiser step for all of them (for a GPU, where a step is "
                    "launch-bound; each run keeps its folder and key; its numbers agree with "
                    "separate training to float rounding)",
                ),
            ),
            (("--no-render",), dict(action="store_true", help="skip rendering the report")),
            NO_PDF,
        ],
    ),
    "status": (
        "one line per run: complete, stale (and why), incomplete, failed, absent, unknown (the dataset "
        "is missing), kept (its last complete execution waits aside: run puts it back), unplanned",
        "status params/default.yaml",
        [PARAMS],
    ),
    "render": (
        "render the report from the runs already on disk (trains nothing)",
        "render params/default.yaml",
        [PARAMS, NO_PDF],
    ),
    "compare": (
        "two profiles' verdicts side by side, from the tables on disk (exit 0 whether or not they agree)",
        "compare params/default.yaml params/large.yaml",
        [
            (
                ("profile_a",),
                dict(
                    metavar="PROFILE_A",
                    help="a parameter file (its profile's folder under reports/, or $REPORTS_DIR), a bare "
                    "profile name (params/<name>.yaml) or a profile's folder (reports/<name>, holding tables/)",
                ),
            ),
            (
                ("profile_b",),
                dict(
                    metavar="PROFILE_B",
                    nargs="?",
                    help="the same; left out: the profile PROFILE_A's report is compared with (the first "
                    "of its report: compare_with that a sweep has finished)",
                ),
            ),
        ]
        + [
            (
                ("--detail",),
                dict(
                    action="store_true",
                    help="each verdict's whole paragraph of numbers, as the report's detail",
                ),
            )
        ],
    ),
    "tidy-notebooks": (
        "put notebooks/*.ipynb in the form JupyterLab saves (metadata and format only)",
        "tidy-notebooks --check",
        [
            (("files",), dict(nargs="*", help="default: notebooks/*.ipynb")),
            (("--check",), dict(action="store_true", help="change nothing; exit 1 naming the untidy files")),
            (
                ("--python-version",),
                dict(
                    default=None, help="the kernel's Python version to record (default: this interpreter's)"
                ),
            ),
        ],
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors that name the nearest command or option (exit 2)."""

    def error(self, message):
        words = message.split()
        if "invalid choice:" in message and self._subparsers is not None:
            given = message.split("invalid choice:", 1)[1].split("(")[0].strip(" '")
            message = f"unknown command '{given}'" + _nearest(given, COMMANDS)
        elif message.startswith("unrecognized arguments:"):
            given = next((w for w in words[2:] if w.startswith("-")), words[-1]).split("=")[0]
            prog, options = self.prog, [o for a in self._actions for o in a.option_strings]
            command = self._command(getattr(self, "argv", []))
            if command is not None:  # the options of the command it was given to
                prog, options = (
                    command.prog,
                    options + [o for a in command._actions for o in a.option_strings],
                )
            message = (
                f"unknown option {given}" + _nearest(given, options)
                if given.startswith("-")
                else f"unexpected argument '{given}'"
            )
            self.exit(2, f"{prog}: error: {message}; see {prog} --help\n")
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")

    def _command(self, argv):
        subs = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
        return next((subs[0].choices[a] for a in argv if subs and a in subs[0].choices), None)


def _nearest(given: str, names) -> str:
    close = difflib.get_close_matches(given, list(names), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def build_parser(prog: str = "aestudy") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description=DESCRIPTION,
        epilog=f"example: {prog} run params/smoke.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root = dict(metavar="DIR", help="the project checkout (default: found from the parameter file)")
    parser.add_argument("--root", default=None, **root)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, (help_, example, arguments) in COMMANDS.items():
        cmd = sub.add_parser(
            name,
            help=help_,
            description=help_[0].upper() + help_[1:] + ".",
            epilog=f"example: {prog} {example}",
        )
        for flags, kwargs in arguments:
            cmd.add_argument(*flags, **kwargs)
        cmd.add_argument("--root", default=argparse.SUPPRESS, **root)  # after the command too: it wins there
        if (
            name == "run"
        ):  # --executor: the registry's names; --executor slurm's options (aestudy.cluster_params)
            from .cluster_params import add_options
            from .runner.executors import registry

            next(a for a in cmd._actions if a.dest == "executor").choices = tuple(registry())
            add_options(cmd)
    return parser


def main(argv=None, prog: str | None = None) -> int:
    whole_process = argv is None  # the command itself, not a caller in its own process (a test)
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog or "aestudy")
    parser.argv = argv  # for naming the command an unknown option was given to
    args = parser.parse_args(argv)
    from .errors import FAILED, INTERRUPTED, StudyError

    try:
        if args.command == "tidy-notebooks":  # in this checkout, whatever --root says
            return _tidy_notebooks(args)
        signal.signal(signal.SIGTERM, _stop)  # SIGTERM stops a command as Ctrl-C does (exit 130)
        if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:  # inherited (a script's `cmd &`): Python then
            signal.signal(signal.SIGINT, signal.default_int_handler)  # never raises KeyboardInterrupt
        root = project_root(args)
        if root is not None:
            return _in_checkout(root, argv)
        return _COMMAND_FUNCTIONS[args.command](args)
    except StudyError as exc:  # bad input (2), a failed run or file (1): aestudy.errors
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if whole_process:
            _leave_at_once_on_a_second_signal()
        again = (
            "the same command executes every run again (--force); without --force it executes only the runs not up to date"
            if getattr(args, "force", False)
            else "run the same command again to resume"
        )
        print(f"interrupted: completed runs are kept; {again}", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `aestudy status ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file this process writes (disk full, no permission): completed runs are kept
        print(f"error: {exc}", file=sys.stderr)
        return FAILED


# ------------------------------------------------------------------ the commands


def _run(args) -> int:
    from . import config
    from .cluster_params import OPTIONS as CLUSTER_OPTIONS
    from .messages import ParamsError
    from .runner import sweep
    from .runner.executors import registry
    from .runner.lock import command_line, profile_lock

    study = _study(args)
    if args.force and args.no_retrain:
        raise ParamsError(
            "--force and --no-retrain contradict each other: the first executes every run, the second none"
        )
    if args.scheduler and "scheduler" not in registry()[args.executor].options:  # else ignored
        takes = " or ".join(n for n, cls in registry().items() if "scheduler" in cls.options)
        raise ParamsError(f"--scheduler is for --executor {takes} (this command's executor: {args.executor})")
    cluster_given = [
        o for o, (field, _) in CLUSTER_OPTIONS.items() if getattr(args, f"cluster_{field}", None) is not None
    ]
    if cluster_given and "cluster" not in registry()[args.executor].options:  # else ignored
        takes = " or ".join(n for n, cls in registry().items() if "cluster" in cls.options)
        raise ParamsError(
            f"{cluster_given[0]} is for --executor {takes} (this command's executor: {args.executor})"
        )
    if args.workers < 1:
        raise ParamsError(f"--workers must be >= 1, got {args.workers}")
    if args.retries < 0:
        raise ParamsError(f"--retries must be >= 0, got {args.retries}")
    _reports_dir(create=True)
    if args.fresh_kernels:
        from .runner.kernels import FRESH_ENV

        os.environ[FRESH_ENV] = "1"  # read where runs execute: workers inherit it
    with profile_lock(config.profile_dir(study.profile), command_line()):
        results = sweep.run_study(
            study,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            force=args.force,
            no_retrain=args.no_retrain,
            stages=args.stage,
            retries=args.retries,
            cluster=_cluster(args, study),
            seeds_together=args.seeds_together,
        )
        if said := sweep.summary(results):
            print(said, file=sys.stderr)
        if not args.no_render:
            _render_study(study, if_changed=not args.force, pdf=not args.no_pdf)
    return 1 if any(r["status"] in ("failed", "skipped") for r in results) else 0


def _status(args) -> int:
    from .runner import sweep

    study = _study(args)
    rows = sweep.status(study)
    print(sweep.status_lines(rows))
    print(sweep.status_summary(study, rows), file=sys.stderr)  # stdout stays one line per run
    return 0


def _render(args) -> int:
    from . import config
    from .report.render import check_has_runs
    from .runner.lock import command_line, profile_lock

    study = _study(args)
    if not config.profile_dir(study.profile).exists():  # never run: say so, and make no folder for the lock
        check_has_runs(study)
    with profile_lock(config.profile_dir(study.profile), command_line()):
        _render_study(study, pdf=not args.no_pdf)
    return 0


def _compare(args) -> int:
    import shutil

    from .report.compare import compare, profile_folder, report_section

    a = _find(args.profile_a)
    b = _find(args.profile_b) if args.profile_b else _compared_with(a)
    width = shutil.get_terminal_size((100, 24)).columns
    print(
        compare(
            profile_folder(a),
            profile_folder(b),
            report_section(a),
            report_section(b),
            detail=args.detail,
            width=min(max(width, 80), 160),
        )
    )
    return 0


def _compared_with(a: str) -> str:
    """The folder of the profile that `a`'s report is compared with (its `report: compare_with`, the
    first a sweep has finished beside it); ParamsError, one line, where it names none or none has run."""
    from .report import counterpart
    from .report.compare import profile_folder, report_section
    from .report.profile import read_profile
    from .schema import ParamsError

    data = read_profile(profile_folder(a), report=report_section(a))
    named, found = counterpart.locate(data)
    if found is None:
        why = (
            f"none of {', '.join(named)} (its report: compare_with) has a finished sweep on disk"
            if named
            else "its report: section names no compare_with"
        )
        raise ParamsError(f"{a}: no profile to compare with: {why}; give PROFILE_B")
    return str(data.dir.parent / found)


def _tidy_notebooks(args) -> int:
    from .notebooks import command

    return command(args.files, check=args.check, python_version=args.python_version)


_COMMAND_FUNCTIONS = {"run": _run, "status": _status, "render": _render, "compare": _compare}


# ------------------------------------------------------------------ helpers


def _cluster(args, study) -> dict | None:
    """`--executor slurm`'s jobs: the file's `cluster:` section under the options given."""
    from .cluster_params import from_args

    return from_args(args, study.spec.cluster, str(study.path)) if args.executor == "slurm" else None


def _study(args):
    from .runner.paramfile import load_study

    study = load_study(_find(args.params_file))
    _reports_dir()
    return study


def _reports_dir(create: bool = False) -> None:
    """Where runs are kept must be a folder (or one that can be made): one line naming REPORTS_DIR
    otherwise, before `status` calls every run absent or `run` fails on its first write."""
    from . import config
    from .messages import ParamsError

    root = config.reports_dir()
    name = f"REPORTS_DIR={os.environ['REPORTS_DIR']}" if os.environ.get("REPORTS_DIR") else str(root)
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not existing.is_dir():
        raise ParamsError(f"{name}: {existing} is a file, not a folder for the runs")
    if create:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ParamsError(f"{name}: cannot make the folder for the runs ({exc.strerror})") from None


def _render_study(study, if_changed: bool = False, pdf: bool = True):
    """Render, saying first (and above the report's summary) which runs are stale: after `run
    --stage`, or `render` after an edit, the report would otherwise show old results silently."""
    from .report.render import render
    from .runner.sweep import KEPT, status

    rows = status(study, damaged_data_unknown=True)  # the report reads no data: a damaged file is a note
    stale = [(r["run"], r["reason"]) for r in rows if r["state"] == "stale"]
    unknown = [r for r in rows if r["state"] == "unknown"]
    if unknown:
        print(
            f"note: whether {len(unknown)} run{'s are' if len(unknown) > 1 else ' is'} up to date is unknown "
            f"({unknown[0]['run']}: {unknown[0]['reason']}); the report shows their last results",
            file=sys.stderr,
        )
    if stale:
        print(
            f"warning: {len(stale)} run{'s are' if len(stale) > 1 else ' is'} stale "
            f"(first: {stale[0][0]}: {stale[0][1]}); the report "
            f"shows the last results and says so; `aestudy run {study.path}` updates them",
            file=sys.stderr,
        )
    incomplete = [(r["run"], r["reason"]) for r in rows if r["state"] == "incomplete"]
    if incomplete:
        n = len(incomplete)
        print(
            f"warning: {n} run{'s are' if n > 1 else ' is'} incomplete (first: {incomplete[0][0]}: "
            f"{incomplete[0][1]}); the report shows what the last sweep recorded and says so; "
            f"`aestudy run {study.path}` executes {'them' if n > 1 else 'it'} again",
            file=sys.stderr,
        )
    kept = [r["run"] for r in rows if r["state"] == KEPT]
    if kept:
        print(
            f"note: the last execution of {len(kept)} run{'s' if len(kept) > 1 else ''} (first: {kept[0]}) did not "
            f"complete, and the report shows {'them' if len(kept) > 1 else 'it'} so; `aestudy run {study.path}` puts "
            "back the complete execution kept aside, executing nothing",
            file=sys.stderr,
        )
    unplanned = [r["run"] for r in rows if r["state"] == "unplanned"]
    behind = _counterpart_behind(study)
    if behind:
        print(
            f"warning: {behind['behind']} of the {behind['runs']} runs of {behind['profile']}, the profile this "
            f"report is compared with, {'is' if behind['behind'] == 1 else 'are'} not up to date with this "
            f"checkout (first: {behind['first']}); its "
            f"verdicts are those of its last sweep; `{behind['command']}` updates them",
            file=sys.stderr,
        )
    return render(
        study,
        pdf=pdf,
        if_changed=if_changed,
        stale=stale,
        unplanned=unplanned,
        counterpart_behind=behind,
        incomplete=incomplete,
    )


def _counterpart_behind(study) -> dict | None:
    """Where the profile the report is compared with (`counterpart.found`) has runs that are not up
    to date against this checkout and the parameter file it last ran (its params.yaml): its name,
    how many of how many runs, the first (run: state, why) and the command that updates them. None
    where all are, where none is compared with, or where its file cannot be read (the report says
    that itself). Its verdicts are still shown: those of its last sweep."""
    from . import config
    from .errors import StudyError
    from .ondisk import PARAMS_COPY
    from .report.counterpart import candidates, found
    from .runner.paramfile import load_study
    from .runner.sweep import status

    name = found(
        candidates(list(study.spec.report.get("compare_with") or []), study.profile),
        config.profile_dir(study.profile),
    )
    if name is None:
        return None
    ran = config.profile_dir(name) / PARAMS_COPY
    try:
        rows = status(load_study(ran), damaged_data_unknown=True)
    except (StudyError, OSError):
        return None
    behind = [r for r in rows if r["state"] != "complete"]
    if not behind:
        return None
    again = config.PROJECT_ROOT / "params" / f"{name}.yaml"
    return {
        "profile": name,
        "behind": len(behind),
        "runs": len(rows),
        "first": f"{behind[0]['run']}: {behind[0]['state']}, {behind[0]['reason']}",
        "command": f"aestudy run {config.relative(again if again.is_file() else ran)}",
    }


def _stop(signum, frame):
    """SIGTERM's handler: the interrupt Ctrl-C raises, so the sweep stops its workers, keeps what
    completed and writes runs.json, and the command exits 130."""
    raise KeyboardInterrupt(f"signal {signum}")


def _leave_at_once_on_a_second_signal():
    """Once the interrupt is handled, Python still winds down (multiprocessing's exit handler joins
    the stopped workers): a second Ctrl-C or SIGTERM then ends the command at once, with exit 130,
    where it would print a traceback from inside that handler."""
    from .errors import INTERRUPTED

    def leave(signum, frame):
        os._exit(INTERRUPTED)

    signal.signal(signal.SIGINT, leave)
    signal.signal(signal.SIGTERM, leave)


def _find(name: str) -> str:
    """A parameter file (or profile folder) as given when it exists from here; else that path, or
    params/<name>.yaml for a bare profile name, in the checkout holding the current folder, then in
    this package's checkout; else as given (the loader then names it in its one-line error). The
    current folder's checkout first: `aestudy run smoke` in a second clone runs that clone's."""
    from . import config

    if Path(name).exists():
        return name
    roots = dict.fromkeys(r for r in (checkout_of(Path.cwd()), config.PROJECT_ROOT) if r is not None)
    for root in roots:
        for candidate in (root / name, root / "params" / f"{name}.yaml"):
            if candidate.exists():
                return str(candidate)
    return name


def checkout_of(path) -> Path | None:
    """The nearest folder at or above `path` that is a checkout of this project."""
    for folder in [Path(path).resolve(), *Path(path).resolve().parents]:
        if (folder / "lib" / "aestudy" / "__init__.py").is_file() and (folder / "notebooks").is_dir():
            return folder
    return None


def project_root(args) -> Path | None:
    """The checkout to run in when it is not the one this package is imported from (None: this one).
    --root or $AESTUDY_ROOT wins; else the checkout holding the parameter file."""
    from . import config
    from .messages import ParamsError

    explicit = args.root or os.environ.get("AESTUDY_ROOT")
    if explicit:
        root = checkout_of(explicit)
        if root is None or root != Path(explicit).resolve():
            given = f"--root {explicit}" if args.root else f"AESTUDY_ROOT={explicit} (the environment)"
            raise ParamsError(f"{given}: not a checkout of this project (no lib/aestudy/ and notebooks/)")
    else:
        given = getattr(args, "params_file", None) or getattr(args, "profile_a", None)
        found = _find(given) if given else None
        root = checkout_of(Path(found).parent) if found and Path(found).exists() else None
    return None if root is None or root == config.PROJECT_ROOT else root


def _in_checkout(root: Path, argv: list[str]) -> int:
    """Run the same command with the package of another checkout (its lib/ first on the path)."""
    import subprocess

    env = {**os.environ, "AESTUDY_ROOT": str(root)}
    child = subprocess.Popen(
        [sys.executable, str(root / "lib" / "__main__.py"), *_without_root(argv)], env=env
    )
    while True:  # the child stops itself on an interrupt (Ctrl-C reaches it too), writing what it must first
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl-C (the child has it too) or SIGTERM (this process alone: pass it on)
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)


def _without_root(argv: list[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--root":
            skip = True
        elif not a.startswith("--root="):
            out.append(a)
    return out


if __name__ == "__main__":
    sys.exit(main())
