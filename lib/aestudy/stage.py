"""One stage of the study: what its run notebook takes, produces and receives, and how its runs
are named. Each experiment declares its own (`aestudy.experiments.<name>.STAGE`); `aestudy.study`
collects them."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import metrics, schema

OUT_DIR = "out_dir"  # every run notebook's output folder (None: reports/lab/<stage>)


@dataclass(frozen=True)
class Stage:
    name: str  # one name everywhere: the stage, its package, notebooks/<name>.ipynb, run ids
    params: type[schema.Params]  # the notebook's own parameters (its parameter cell, minus the below)
    reads_data: bool = False  # gets the `data` section as parameters; the dataset checksum keys it
    produces: str | None = None  # the file of a run that downstream runs receive
    receives: str | dict | None = None  # the parameter receiving upstream products (lists of paths),
    # or {upstream stage: parameter}
    abbrev: dict = field(default_factory=dict)  # short names of grid keys in run ids
    in_report: bool = False  # its executed notebooks are chapters of the report
    metrics: type | None = (
        None  # the model of its metrics.json (its package's metrics.py): keys the report reads
    )
    outputs: tuple[str, ...] = ()  # further files every run must write (besides `produces` and metrics.json)
    order: int = 0  # where it stands in STAGES (then its name): after the stages it uses
    takes_one: tuple[str, ...] = ()  # upstream stages of which a run takes exactly one product (its
    # encoder, its classifier): the planner refuses a `uses` that gives a run more
    together: str | None = None  # a grid parameter whose runs its notebook can train in one execution
    # (`--seeds-together`: the runner passes the others as `cell_runs`; runner.plan.Job)

    @property
    def products(self) -> tuple[str, ...]:
        """Every file a finished run must have written: checked before `complete.json`."""
        return tuple(
            dict.fromkeys(
                ((self.produces,) if self.produces else ())
                + ((metrics.METRICS,) if self.metrics else ())
                + self.outputs
            )
        )

    def receiver(self, upstream: str) -> str | None:
        """The parameter that receives the products of `upstream` runs (None: this stage takes none)."""
        if isinstance(self.receives, dict):
            return self.receives.get(upstream)
        return self.receives

    @property
    def receivers(self) -> tuple[str, ...]:
        return (
            tuple(self.receives.values())
            if isinstance(self.receives, dict)
            else ((self.receives,) if self.receives else ())
        )

    @property
    def notebook(self) -> str:
        return f"notebooks/{self.name}.ipynb"  # how messages name it

    def notebook_path(self):
        from . import config

        return config.NOTEBOOKS / f"{self.name}.ipynb"

    def notebook_fields(self) -> dict[str, object]:
        """Every parameter of the notebook's parameter cell, with its default."""
        out = {}
        if self.reads_data:
            out.update({k: f.default for k, f in schema.DataParams.model_fields.items()})
        out.update(
            {
                k: f.default.model_dump() if isinstance(f.default, schema.Params) else f.default
                for k, f in self.params.model_fields.items()
            }
        )
        out.update({r: [] for r in self.receivers})
        out[OUT_DIR] = None
        return out

    def unkeyed(self) -> tuple[str, ...]:
        """Parameters that locate things rather than change results (outside the cache key);
        the upstream products are keyed by the upstream runs' keys instead."""
        return (
            OUT_DIR,
            *self.receivers,
            *schema.unkeyed(self.params),
            *(schema.unkeyed(schema.DataParams) if self.reads_data else ()),
        )
