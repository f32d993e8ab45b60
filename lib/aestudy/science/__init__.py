"""What runs share (data, models, training steps, fitting, artifacts, figures): imported by the run
notebooks and the experiments' runs; knows nothing of the runner, the report or any experiment."""
