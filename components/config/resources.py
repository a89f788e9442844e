"""Memory/CPU limits as written in stack config ("512m", "2g", 0.5)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from .base import ConfigModel

_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


def parse_bytes(v: str) -> int:
    m = re.fullmatch(r"([0-9]+)([kmg])", v.strip().lower())
    if not m:
        raise ValueError(f"{v!r} is not a size like 512m or 2g")
    return int(m.group(1)) * _UNITS[m.group(2)]


class Resources(ConfigModel):
    memory: str = "512m"
    cpus: Annotated[float, Field(gt=0, le=64)] = 1.0
    # Reservation as a fraction of the limit.
    reserve: Annotated[float, Field(gt=0, le=1)] = 0.1

    @field_validator("memory")
    @classmethod
    def _mem(cls, v: str) -> str:
        if parse_bytes(v) < 16 * 1024**2:
            raise ValueError("memory limit below 16m")
        return v

    @property
    def memory_bytes(self) -> int:
        return parse_bytes(self.memory)

    @property
    def nano_cpus(self) -> int:
        return int(self.cpus * 1e9)
