"""The jobs behind ``rfnet finetune``, ``rfnet evaluate``, ``rfnet demo`` and ``rfnet bench``, callable from
Python too; :mod:`rfnet.jobs.run_folder` reads and writes the run folder they share.

>>> from rfnet.jobs import FinetuneJob, finetune, EvaluateJob, evaluate, DemoConfig, run_demo

The names load their modules (and torch) on first use, so that a light module of this package
(``rfnet.jobs.recipes``, which ``rfnet finetune --help`` reads) imports without the jobs. ``evaluate``,
``finetune`` and ``bench`` each name a function exported here and a module of this package; the package
answers the function, as it did when it imported the jobs eagerly.
"""

import importlib
import sys
import types

_EXPORTS = {
    "BenchJob": "bench",
    "bench": "bench",
    "DataSpec": "datasets",
    "LabelledData": "datasets",
    "open_data": "datasets",
    "DemoConfig": "demo",
    "run_demo": "demo",
    "EvaluateJob": "evaluate",
    "evaluate": "evaluate",
    "FinetuneJob": "finetune",
    "FinetuneOutcome": "finetune",
    "finetune": "finetune",
}
"""Public name → the module of this package that defines it."""

__all__ = sorted(_EXPORTS)


class _Jobs(types.ModuleType):
    """This package, looking the public names up in their modules on each access. A module ``__getattr__``
    (PEP 562) would not do: once ``rfnet.jobs.evaluate`` is imported, the import system binds that module
    to the package's ``evaluate``, and ``__getattr__`` is only asked for names that are missing."""

    def __getattribute__(self, name: str):
        if name in _EXPORTS:
            return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        return super().__getattribute__(name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_EXPORTS})


sys.modules[__name__].__class__ = _Jobs
