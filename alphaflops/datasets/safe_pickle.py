"""Read pickles of numpy arrays without running code from the file.

A pickle may name any importable callable and have the loader call it. The
:class:`SafeUnpickler` resolves only the few globals that numpy arrays,
dtypes and scalars are rebuilt from, and raises
:class:`~alphaflops.errors.UnsafePickleError` for every other global before
importing or calling it.

Pickles name the module they were written with: numpy 1 wrote
``numpy.core.*``, numpy 2 writes ``numpy._core.*``. Both spellings resolve
to the installed numpy's own module, so a numpy 2 install never imports the
deprecated ``numpy.core`` alias (which would warn).
"""

import importlib
import io
import pickle

import numpy as np

from alphaflops.errors import DatasetError, UnsafePickleError

_CORE_SPELLINGS = ("numpy.core", "numpy._core")
_INSTALLED_CORE = "numpy._core" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "numpy.core"

#: Globals that a pickle may name, as (module, name) pairs. ``_codecs.encode``
#: rebuilds bytes in pickles of protocol 2 and lower; it only converts data.
ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("_codecs", "encode"),
        *((f"{core}.numeric", "_frombuffer") for core in _CORE_SPELLINGS),
        *((f"{core}.multiarray", "_reconstruct") for core in _CORE_SPELLINGS),
        *((f"{core}.multiarray", "scalar") for core in _CORE_SPELLINGS),
    }
)


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that builds numpy arrays and plain Python data only.

    Every global outside :data:`ALLOWED_GLOBALS` raises
    :class:`~alphaflops.errors.UnsafePickleError` naming ``module.name``;
    nothing is imported or called for it.
    """

    def find_class(self, module, name):
        """Resolve an allowed global to the installed numpy, or raise UnsafePickleError."""
        if (module, name) not in ALLOWED_GLOBALS:
            raise UnsafePickleError(
                f"the pickle names the global {module}.{name}; only numpy arrays, dtypes and "
                "scalars may be loaded, so the file was rejected without running it"
            )

        for core in _CORE_SPELLINGS:
            if module.startswith(core + "."):
                module = _INSTALLED_CORE + module[len(core):]
                break
        return getattr(importlib.import_module(module), name)


def safe_loads(data, source="pickle"):
    """Unpickle ``data`` (bytes) with :class:`SafeUnpickler`.

    Parameters
    ----------
    data : bytes
        The whole pickle.
    source : str
        Name of the file for error messages.

    Returns
    -------
    object
        The unpickled object: plain Python containers, numbers, strings and
        numpy arrays, dtypes and scalars.

    Raises
    ------
    UnsafePickleError
        If the pickle names a global that is not allowed; the message starts
        with ``source``.
    DatasetError
        If the data is truncated or not a pickle.
    """
    unpickler = SafeUnpickler(io.BytesIO(data))
    try:
        return unpickler.load()
    except UnsafePickleError as error:
        raise UnsafePickleError(f"{source}: {error}") from None
    except EOFError:
        raise DatasetError(f"{source} is not a complete pickle: the data ends early (truncated file?)") from None
    except (pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
        raise DatasetError(
            f"{source} is not a valid pickle: {error}; check that the file is the dataset pickle, not damaged"
        ) from None
