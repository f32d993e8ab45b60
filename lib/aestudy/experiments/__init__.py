"""The study's experiments, one package each (named by its stage): its parameters, its metrics,
its stage declaration, its run (the science) and its report section."""
