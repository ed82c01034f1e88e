"""scikit-learn's parameter protocol (``get_params``, ``set_params``, ``repr``) as a mixin."""

from __future__ import annotations

import inspect
from typing import Any, Self

from marketlift.errors import ConfigError

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """``__init__`` stores its arguments under the same names; this exposes them."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters; returns ``self``."""
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError("parameter", key, f"one of {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
