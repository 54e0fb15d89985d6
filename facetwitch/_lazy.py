"""Lazy attributes for a package (the scikit-image / lazy_loader pattern, without the dependency).

``import facetwitch`` must stay cheap (no MediaPipe, OpenCV or PyAV until used), yet
``facetwitch.track`` must be the real function, with its real signature for ``help()``.
"""

from __future__ import annotations

import importlib


def attach(package: str, names: dict[str, str]):
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for a package's lazy names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str to str
        Public name -> the submodule (relative to ``package``) that defines it.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__, __all__)`` to assign at the package's top level.
    """

    def __getattr__(name: str):
        if name in names:
            value = getattr(importlib.import_module(names[name], package), name)
            globals_ = importlib.import_module(package).__dict__
            globals_[name] = value  # the next access does not come here
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(names))

    return __getattr__, __dir__, sorted(names)
