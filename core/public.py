"""Each stage's public names on its package (``from community_safety.core.segment import
build_segmentation``), imported only when first used, so that importing one module of a
stage does not load the others (and their libraries)."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, modules: dict[str, str]):
    """``(__all__, __getattr__, __dir__)`` for a package whose public names live in its
    modules: ``modules`` maps each module (within the package) to the names it gives,
    separated by spaces."""
    homes = {name: module for module, names in modules.items() for name in names.split()}

    def __getattr__(name: str):
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(homes)

    return sorted(homes), __getattr__, __dir__
