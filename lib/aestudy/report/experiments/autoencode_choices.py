"""What experiment 1 chose and how, said in the report's "Choices and limitations"."""
from __future__ import annotations

STAGE = "autoencode"


def choices(data) -> list[dict]:
    st = ((data.params.get("stages") or {}).get(STAGE)) or {}
    p, seeds = st.get("params") or {}, (st.get("grid") or {}).get("seed", [])
    return [
        {"what": "replication", "choice": f"{len(seeds)} autoencoder seeds ({', '.join(map(str, seeds))})",
         "how it was made": "the budget of the profile; every later stage uses every seed's model",
         "on what data": "none (fixed before the runs)"},
        {"what": "FC hidden width", "choice": f"fc_hidden = {p.get('fc_hidden', '?')}",
         "how it was made": "not recorded by the original; a width between the flattened conv output and d",
         "on what data": "none (fixed before the runs)"},
        {"what": "learning-rate warm-up", "choice": f"warmup_steps = {p.get('warmup_steps', '?')}",
         "how it was made": "first added after one model (d=20, num_conv=3, seed 0) trained far worse than its seed "
                            "siblings, noticed by its test error; then redone (benchmarks/outlier.py) on held-out "
                            "training images at this fidelity, 5 seeds: shorter warm-ups let a seed's encoder "
                            "collapse, this one does not",
         "on what data": "held-out training images (first noticed on the test set: disclosed)"},
        {"what": "epochs", "choice": f"{p.get('epochs', '?')} epoch(s), batch {p.get('batch_size', '?')}, "
                                     f"{p.get('optimizer', '?')} at lr {p.get('lr', '?')}, "
                                     f"{p.get('precision', 'float32')} training",
         "how it was made": "the original's optimiser; the epochs and the arithmetic (bfloat16 autocast is faster on "
                            "a CPU; errors are measured in float32) fit the profile's time budget",
         "on what data": "run times, not results"}]
