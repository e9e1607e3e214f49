"""The one exception qc raises."""


class QcError(Exception):
    """A failure of the qc compiler or runtime, with the tool's message."""
