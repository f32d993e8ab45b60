"""The `cluster:` section of a parameter file and its command-line options: the SLURM jobs that
`--executor slurm` asks for.

Kept apart from `aestudy.schema` for the reason `report_params` is: every run notebook imports the
schema, so an edit there would make every run stale; where runs execute is no input of a run.
An option given on the command line wins over the file's section; what neither sets has the
default below (stated in `python -m lib run --help`).
"""

from __future__ import annotations

import argparse
from typing import Annotated

from pydantic import Field, StringConstraints

from .schema import Params

MEMORY = r"^[0-9]+(\.[0-9]+)?\s*([kKmMgGtT]i?[bB]?)$"
WALLTIME = r"^([0-9]+-)?[0-9]+(:[0-5][0-9]){0,2}$"  # minutes and seconds below 60


class ClusterParams(Params):
    """One SLURM job per Dask worker; each worker executes one run at a time with `cores` threads."""

    partition: str | None = Field(
        None, min_length=1, description="SLURM partition (default: the cluster's default partition)"
    )
    cores: int = Field(
        1, ge=1, le=1024, description="CPUs per job: the torch threads of the runs it executes"
    )
    memory: str = Field("4GB", pattern=MEMORY, description="memory per job, e.g. 4GB, 16GiB")
    walltime: str = Field(
        "01:00:00",
        pattern=WALLTIME,
        description=("wall time per job ([D-]HH:MM:SS); a lost job is replaced while runs remain"),
    )
    max_jobs: int = Field(4, ge=1, le=10000, description="jobs at once (fewer when the sweep has fewer runs)")
    directives: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        [], description=("extra #SBATCH options, e.g. --gres=gpu:1, --account=proj, --constraint=a100")
    )
    prologue: list[str] = Field(
        [],
        description=(
            "shell lines the job runs before its worker starts, e.g. 'module load cuda/12', "
            "'source .venv/bin/activate' (in the project root, after the runner's exports)"
        ),
    )
    interface: str | None = Field(
        None,
        min_length=1,
        description=(
            "network interface the scheduler and workers talk over, e.g. ib0 (default: the host's address)"
        ),
    )


OPTIONS = {  # option -> (field, argparse keywords)
    "--partition": ("partition", {}),
    "--job-cores": ("cores", {"type": int}),
    "--job-memory": ("memory", {}),
    "--walltime": ("walltime", {}),
    "--max-jobs": ("max_jobs", {"type": int}),
    "--sbatch": ("directives", {"action": "append", "metavar": "OPTION"}),
    "--job-prologue": ("prologue", {"action": "append", "metavar": "LINE"}),
    "--interface": ("interface", {}),
}


def add_options(parser: argparse.ArgumentParser) -> None:
    """The `--executor slurm` options of `run` (each defaults to the parameter file's `cluster:`
    section, then to ClusterParams' default)."""
    group = parser.add_argument_group(
        "--executor slurm",
        "the SLURM jobs that run Dask workers (dask-jobqueue); each option overrides "
        "the parameter file's `cluster:` section",
    )
    for option, (field, kw) in OPTIONS.items():
        info = ClusterParams.model_fields[field]
        default = f" [default: {info.default}]" if info.default not in (None, []) else ""
        extra = (
            f" (repeatable: {option}={'--gres=gpu:1' if field == 'directives' else repr('module load cuda')})"
            if kw.get("action") == "append"
            else ""
        )
        group.add_argument(
            option,
            dest=f"cluster_{field}",
            default=None,
            help=f"{info.description}{extra}{default}",
            **{"metavar": field.upper(), **kw},
        )


def from_args(args: argparse.Namespace, section: dict, where: str) -> dict:
    """The file's section updated with the options given, validated (ParamsError names the option)."""
    from .messages import ParamsError, validate  # quotes at most an excerpt of a value

    given = {field: getattr(args, f"cluster_{field}", None) for field, _ in OPTIONS.values()}
    given = {k: v for k, v in given.items() if v is not None}
    validate(ClusterParams, section, f"{where}: cluster")
    try:  # the file's section passed above, so a wrong value is an option's: the line names the option
        return validate(ClusterParams, {**section, **given}, "cluster")
    except ParamsError as exc:
        at, why = str(exc).split(":", 1)  # 'cluster.directives.1', ' String should ...'
        for option, (field, _) in OPTIONS.items():
            if field in given and at.split(".")[1] == field:
                raise ParamsError(f"{option}:{why}") from None
        raise
