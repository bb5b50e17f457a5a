"""Exception classes raised by alphaflops.

Every class except the base :class:`AlphaflopsError` also derives from
``ValueError`` or ``OSError``, so callers who catch the built-in types keep
working. The command line prints each of them as one
line on stderr.
"""


class AlphaflopsError(Exception):
    """Base class of the errors raised by alphaflops."""


class DatasetError(AlphaflopsError, ValueError):
    """A measurement file is invalid, truncated or of an unknown format."""


class UnsafePickleError(DatasetError):
    """A pickle names a global that loading it would import or call."""


class ChecksumError(AlphaflopsError, OSError):
    """A downloaded file does not have the expected SHA-256."""


class ModelFileError(AlphaflopsError, ValueError):
    """A model file is invalid, from a newer format, or of an unknown kind."""
