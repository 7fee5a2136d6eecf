"""The errors a stage reports as one line (``ncrepro: error: ...``) instead of a traceback. Here, not
in the modules that raise them, so that the command line can catch them without importing torch."""


class DataError(RuntimeError):
    """A dataset cannot be staged or read; the message says what to do."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


class ConfigError(ValueError):
    """A configuration problem, described in one line that names the offending key path."""
