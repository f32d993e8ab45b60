"""The study declaration: which stages exist, what each produces, and how runs are named.

The runner knows the study only through `STAGES`: it plans, keys, executes and tabulates any
list of `Stage`s, and names no model parameter. A stage is one notebook, executed once per
grid point (and, with `for_each` in the parameter file, once per selected upstream run).

How a downstream run selects upstream runs is said by the parameter file: `uses: {STAGE:
{param: value(s)}}` selects upstream runs by their parameters; a run receives the selected runs'
products (`Stage.produces`) as a list in its parameter `Stage.receives` (one parameter for
every upstream stage, or a parameter per upstream stage: `{"autoencode": "checkpoints", ...}`);
`for_each: STAGE` makes
one run per selected upstream run instead of one run that takes them all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import metrics, schema
from .schema import ParamsError

OUT_DIR = "out_dir"  # every run notebook's output folder (None: reports/lab/<stage>)


@dataclass(frozen=True)
class Stage:
    name: str
    params: type[schema.Params]   # the notebook's own parameters (its parameter cell, minus the below)
    reads_data: bool = False      # gets the `data` section as parameters; the dataset checksum keys it
    produces: str | None = None   # the file of a run that downstream runs receive
    receives: str | dict | None = None  # the parameter receiving upstream products (lists of paths),
                                        # or {upstream stage: parameter}
    abbrev: dict = field(default_factory=dict)  # short names of grid keys in run ids
    in_report: bool = False       # its executed notebooks are chapters of the report
    metrics: type | None = None   # the model of its metrics.json (aestudy.metrics): keys the report reads
    outputs: tuple[str, ...] = () # further files every run must write (besides `produces` and metrics.json)

    @property
    def products(self) -> tuple[str, ...]:
        """Every file a finished run must have written: checked before `complete.json`."""
        return tuple(dict.fromkeys(((self.produces,) if self.produces else ())
                                   + ((metrics.METRICS,) if self.metrics else ()) + self.outputs))

    def receiver(self, upstream: str) -> str | None:
        """The parameter that receives the products of `upstream` runs (None: this stage takes none)."""
        if isinstance(self.receives, dict):
            return self.receives.get(upstream)
        return self.receives

    @property
    def receivers(self) -> tuple[str, ...]:
        return tuple(self.receives.values()) if isinstance(self.receives, dict) else \
            ((self.receives,) if self.receives else ())

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
        out.update({k: f.default.model_dump() if isinstance(f.default, schema.Params) else f.default
                    for k, f in self.params.model_fields.items()})
        out.update({r: [] for r in self.receivers})
        out[OUT_DIR] = None
        return out

    def unkeyed(self) -> tuple[str, ...]:
        """Parameters that locate things rather than change results (outside the cache key);
        the upstream products are keyed by the upstream runs' keys instead."""
        return (OUT_DIR, *self.receivers, *schema.unkeyed(self.params),
                *(schema.unkeyed(schema.DataParams) if self.reads_data else ()))


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("autoencode", schema.AutoencodeParams, reads_data=True, produces="model.pt",
          abbrev={"latent_dim": "d", "num_conv": "nc", "seed": "s"}, metrics=metrics.AutoencodeMetrics,
          outputs=("reconstructions.png",)),
    Stage("reference", schema.ReferenceParams, reads_data=True, produces="classifier.pt", abbrev={"seed": "s"},
          metrics=metrics.ReferenceMetrics),
    Stage("interpolate", schema.InterpolateParams, reads_data=True,
          receives={"autoencode": "checkpoints", "reference": "classifiers"}, metrics=metrics.InterpolateMetrics),
    Stage("correlate", schema.CorrelateParams, reads_data=True, receives="checkpoints",
          metrics=metrics.CorrelateMetrics),
    Stage("protocol", schema.ProtocolParams, reads_data=True, produces="protocol.json",
          receives={"autoencode": "checkpoints"}, abbrev={"h1": "h", "n_labels": "n", "modes": ""},
          metrics=metrics.ProtocolMetrics),
    Stage("transfer", schema.TransferParams, reads_data=True,
          receives={"autoencode": "checkpoints", "protocol": "protocols"}, abbrev={"h1": "h", "n_labels": "n"},
          metrics=metrics.TransferMetrics),
    Stage("semisup", schema.SemisupParams, reads_data=True,
          receives={"autoencode": "checkpoints", "protocol": "protocols"}, abbrev={"h1": "h", "n_labels": "n"},
          metrics=metrics.SemisupMetrics),
    Stage("theory", schema.TheoryParams, in_report=True, abbrev={"seed": "s"}),
)}


def data_checksum(data: dict) -> str:
    """The fingerprint of the dataset a `data` section names: part of data-reading runs' keys."""
    from .science.data import fingerprint

    return fingerprint(data["dataset"], data["data_dir"])


def check_parameters(stage: str, namespace: dict) -> dict:
    """Called by a run notebook right after its parameter cell (and papermill's injected cell):
    stops the notebook with the runner's one-line message on an unknown name or an invalid value,
    before any work. Returns the validated values."""
    st = STAGES[stage]
    fields = st.notebook_fields()
    where = f"{st.notebook}: parameters"
    for key in injected_names(namespace):
        if key not in fields:
            raise schema.unknown_key(where, key, tuple(fields))
    given = {k: namespace[k] for k in fields if k in namespace}
    values = schema.validate(st.params, {k: v for k, v in given.items() if k in st.params.model_fields}, where)
    if st.reads_data:
        values.update(schema.validate(
            schema.DataParams, {k: v for k, v in given.items() if k in schema.DataParams.model_fields}, where))
    for name in st.receivers:
        received = given.get(name, [])
        if not (isinstance(received, (list, tuple)) and all(isinstance(p, str) for p in received)):
            raise ParamsError(f"{where}.{name}: must be a list of file paths (got {received!r})")
    return values


PAPERMILL_HEADER = "# Parameters"  # the first line of the cell papermill injects


def injected_names(namespace: dict) -> list[str]:
    """Names assigned by papermill's injected cell(s), read from the kernel's input history."""
    import ast

    names = []
    for source in namespace.get("In", []) or []:
        if source.splitlines()[:1] == [PAPERMILL_HEADER]:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            names += [t.id for node in tree.body if isinstance(node, ast.Assign)
                      for t in node.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))
