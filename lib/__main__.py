"""Command line: `python -m lib run PARAMS_FILE` and `python -m lib render PARAMS_FILE`."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute every run of a parameter file, then render the report")
    run.add_argument("params_file")
    run.add_argument("--workers", type=int, default=1, help="independent runs executed at once")
    run.add_argument("--executor", choices=("local", "dask"), default="local")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    run.add_argument("--force", action="store_true", help="re-execute every run, ignoring the cache")
    run.add_argument("--no-retrain", action="store_true",
                     help="never execute a run: fail naming what is missing or corrupt")
    run.add_argument("--stage", action="append", help="only this stage (repeatable)")
    run.add_argument("--no-render", action="store_true", help="skip rendering the report")
    ren = sub.add_parser("render", help="render the report from the runs already on disk")
    ren.add_argument("params_file")
    args = parser.parse_args(argv)

    from .data import DataNotFoundError
    from .params import ParamsError, load_study
    from . import pipeline

    try:
        study = load_study(args.params_file)
        if args.command == "run":
            if args.workers < 1:
                raise ParamsError(f"--workers must be >= 1, got {args.workers}")
            results = pipeline.run_study(study, workers=args.workers, executor=args.executor,
                                         scheduler=args.scheduler, force=args.force,
                                         no_retrain=args.no_retrain, stages=args.stage)
            print(pipeline.summary(results), file=sys.stderr)
            failed = [r for r in results if r["status"] in ("failed", "skipped")]
            if not args.no_render:
                pipeline.render(study, if_changed=not args.force)
            return 1 if failed else 0
        pipeline.render(study)
        return 0
    except (ParamsError, DataNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: completed runs are kept; run the same command again to resume",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
