"""The project's library folder. The importable package is `aestudy` (lib/aestudy/); this
folder keeps `python -m lib run|render|status PARAMS_FILE` working from the project root."""
