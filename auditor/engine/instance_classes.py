"""Memory and vCPU of common Aurora PostgreSQL DB instance classes, for evaluating parameter formulas.

Source: AWS Aurora User Guide, "Aurora DB instance classes" → "Hardware specifications for DB instance
classes for Aurora" (vCPU and memory in GiB per class). Only the families listed below are known; any
other class is unknown (None) and the caller keeps reporting the formula as text.

APPROXIMATION: RDS's DBInstanceClassMemory is the memory available to the database processes — the class's
total memory less what AWS reserves for the OS and the RDS processes ("Specifying DB parameters": it is
"always somewhat lower than the memory figures shown in the instance class tables"; the exact value is not
published). This module uses the class's TOTAL memory, so evaluated values are slight over-estimates and are
always shown with "≈".

Aurora Serverless v2 (`db.serverless`): each ACU is about 2 GiB of memory, and Aurora sizes memory-based
parameters by the cluster's maximum capacity (Aurora User Guide, "Working with parameter groups for Aurora
Serverless v2"), so memory ≈ max ACU × 2 GiB; vCPU is not defined for an ACU (None).
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
SERVERLESS = "db.serverless"
GIB_PER_ACU = 2

# size → (vCPU, memory GiB) for the memory-optimized r families (8 GiB per vCPU).
_R_SIZES = {
    "large": (2, 16),
    "xlarge": (4, 32),
    "2xlarge": (8, 64),
    "4xlarge": (16, 128),
    "8xlarge": (32, 256),
    "12xlarge": (48, 384),
    "16xlarge": (64, 512),
    "24xlarge": (96, 768),
    "32xlarge": (128, 1024),
    "48xlarge": (192, 1536),
}
# Which sizes each r family offers for Aurora (all offer large … 16xlarge).
_TO_16X = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_R_FAMILIES = {
    "r5": (*_TO_16X, "24xlarge"),
    "r6g": _TO_16X,
    "r6i": (*_TO_16X, "24xlarge", "32xlarge"),
    "r7g": _TO_16X,
    "r7i": (*_TO_16X, "24xlarge", "48xlarge"),
    "r8g": (*_TO_16X, "24xlarge", "48xlarge"),
}
# db.x2g: memory-intensive, 16 GiB per vCPU.
_X2G = {
    "large": (2, 32),
    "xlarge": (4, 64),
    "2xlarge": (8, 128),
    "4xlarge": (16, 256),
    "8xlarge": (32, 512),
    "12xlarge": (48, 768),
    "16xlarge": (64, 1024),
}
# Burstable classes (Aurora supports medium and large for PostgreSQL).
_T = {"medium": (2, 4), "large": (2, 8)}

CLASSES: dict[str, tuple[int, int]] = {
    **{f"db.{fam}.{size}": _R_SIZES[size] for fam, sizes in _R_FAMILIES.items() for size in sizes},
    **{f"db.x2g.{size}": spec for size, spec in _X2G.items()},
    **{f"db.{fam}.{size}": spec for fam in ("t3", "t4g") for size, spec in _T.items()},
}


@dataclass(frozen=True)
class Sizing:
    """What a formula sees on one instance class (None = not known)."""

    instance_class: str
    memory_bytes: int | None
    vcpu: int | None

    @property
    def label(self) -> str:
        if self.instance_class == SERVERLESS and self.memory_bytes is not None:
            return f"{SERVERLESS} (max {self.memory_bytes / GIB / GIB_PER_ACU:g} ACU)"
        return self.instance_class


def sizing(instance_class: str, serverless_max_acu: float | None = None) -> Sizing:
    """Memory (total, bytes) and vCPU of a class; unknown parts are None."""
    if instance_class == SERVERLESS:
        mem = int(serverless_max_acu * GIB_PER_ACU * GIB) if serverless_max_acu else None
        return Sizing(instance_class, mem, None)
    spec = CLASSES.get(instance_class)
    if spec is None:
        return Sizing(instance_class, None, None)
    vcpu, gib = spec
    return Sizing(instance_class, gib * GIB, vcpu)
