"""Each stage's public names on its package (``from community_safety.core.segment import
build_segmentation``), imported only when first used, so that importing one module of a
stage does not load the others (and their libraries)."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, homes: dict[str, str]):
    """``(__getattr__, __dir__)`` for a package whose public names live in its modules:
    ``homes`` maps each name to the module (within the package) that defines it."""

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(homes)

    return __getattr__, __dir__
