"""Command line: `python -m lib run|render|status PARAMS_FILE`, `python -m lib compare PROFILE_A PROFILE_B`,
`python -m lib tidy-notebooks` (notebooks/*.ipynb as JupyterLab saves them: they open unmodified).

Exit status: 0 all runs ok, 1 some run failed (or a file could not be written), 2 bad input
(parameter file, dataset), 130 interrupted.
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute every run of a parameter file, then render the report")
    run.add_argument("params_file")
    run.add_argument("--workers", type=int, default=1, help="independent runs executed at once")
    run.add_argument("--executor", choices=("local", "dask", "slurm"), default="local",
                     help="local: this machine (--workers processes); dask: a Dask cluster (--scheduler); "
                          "slurm: Dask workers in SLURM jobs (options below; docs/cluster.md)")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    from .cluster_params import add_options

    add_options(run)
    run.add_argument("--force", action="store_true", help="re-execute every run, ignoring the cache")
    run.add_argument("--no-retrain", action="store_true",
                     help="never execute a run: fail naming what is missing or corrupt")
    run.add_argument("--stage", action="append", help="only this stage (repeatable)")
    run.add_argument("--retries", type=int, default=0, metavar="N",
                     help="execute a run again, up to N times, when its kernel died or it passed its "
                          "time limit (`timeout:` in the parameter file); not when its code raised")
    run.add_argument("--fresh-kernels", action="store_true",
                     help="start a kernel for every run instead of reusing each worker's (slower; the numbers "
                          "are the same)")
    run.add_argument("--no-render", action="store_true", help="skip rendering the report")
    ren = sub.add_parser("render", help="render the report from the runs already on disk")
    ren.add_argument("params_file")
    st = sub.add_parser("status", help="one line per run: complete, stale (and why), incomplete, failed, absent")
    st.add_argument("params_file")
    cmp = sub.add_parser("compare", help="two profiles' verdicts side by side, from the tables on disk",
                         description="Print both profiles' verdicts and numbers side by side, read from the "
                         "tables their runs wrote (nothing is executed), and a last line saying whether they "
                         "agree wherever neither is inconclusive. Exit 0 either way.")
    for name in ("profile_a", "profile_b"):
        cmp.add_argument(name, help="a parameter file (params/<name>.yaml: its profile's folder under reports/, "
                         "or $REPORTS_DIR) or a profile's folder (reports/<name>, holding tables/)")
    tidy = sub.add_parser("tidy-notebooks", help="put notebooks/*.ipynb in the form JupyterLab saves "
                          "(metadata and format only), so they open unmodified")
    tidy.add_argument("files", nargs="*", help="default: notebooks/*.ipynb")
    tidy.add_argument("--check", action="store_true", help="change nothing; exit 1 naming the untidy files")
    tidy.add_argument("--python-version", default=None, help="the kernel's Python version to record "
                      "(default: this interpreter's; JupyterLab writes the kernel's)")
    args = parser.parse_args(argv)
    if args.command == "tidy-notebooks":
        from .notebooks import command

        return command(args.files, check=args.check, python_version=args.python_version)

    from . import config
    from .runner import sweep
    from .runner.lock import command_line, profile_lock
    from .runner.paramfile import load_study
    from .schema import ParamsError
    from .science.data import DataNotFoundError

    try:
        if args.command == "compare":
            from .report.compare import compare, profile_folder

            print(compare(profile_folder(args.profile_a), profile_folder(args.profile_b)))
            return 0
        study = load_study(args.params_file)
        if args.command == "status":
            print(sweep.status_lines(sweep.status(study)))
            return 0
        if args.command == "run" and args.workers < 1:
            raise ParamsError(f"--workers must be >= 1, got {args.workers}")
        if args.command == "run" and args.retries < 0:
            raise ParamsError(f"--retries must be >= 0, got {args.retries}")
        if args.command == "run" and args.fresh_kernels:
            from .runner.kernels import FRESH_ENV

            os.environ[FRESH_ENV] = "1"  # read where runs execute: workers inherit it
        with profile_lock(config.profile_dir(study.profile), command_line()):
            if args.command == "render":
                _render(study)
                return 0
            results = sweep.run_study(study, workers=args.workers, executor=args.executor,
                                      scheduler=args.scheduler, force=args.force, cluster=_cluster(args, study),
                                      no_retrain=args.no_retrain, stages=args.stage, retries=args.retries)
            print(sweep.summary(results), file=sys.stderr)
            failed = [r for r in results if r["status"] in ("failed", "skipped")]
            if not args.no_render:
                _render(study, if_changed=not args.force)
            return 1 if failed else 0
    except (ParamsError, DataNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: completed runs are kept; run the same command again to resume", file=sys.stderr)
        return 130
    except OSError as exc:  # a file this process writes (disk full, no permission): completed runs are kept
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _cluster(args, study) -> dict | None:
    from .cluster_params import from_args

    return from_args(args, study.spec.cluster, str(study.path)) if args.executor == "slurm" else None


def _render(study, if_changed: bool = False):
    from .report.render import render

    return render(study, if_changed=if_changed)


if __name__ == "__main__":
    sys.exit(main())
