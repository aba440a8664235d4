"""Fallback table of Aurora PostgreSQL major-version end-of-standard-support dates.

Used only when the snapshot has no lifecycle data from DescribeDBMajorEngineVersions (CL08 names the
source in its message). Source: AWS, "Amazon Aurora PostgreSQL release calendar" (Aurora User Guide,
"Aurora PostgreSQL major versions" table, end of standard support column). Review when AWS updates it.
"""

from __future__ import annotations

from datetime import date

TABLE_SOURCE = "packaged table from the AWS Aurora PostgreSQL release calendar (Aurora User Guide)"

# major version -> end of standard support (RDS Extended Support starts the day after)
END_OF_STANDARD_SUPPORT: dict[str, date] = {
    "11": date(2024, 2, 29),
    "12": date(2025, 2, 28),
    "13": date(2026, 2, 28),
    "14": date(2027, 2, 28),
    "15": date(2028, 2, 29),
    "16": date(2029, 2, 28),
    "17": date(2030, 2, 28),
}


def major_of(version: str) -> str:
    """Aurora PostgreSQL 10+ majors are the first component ("16.4" -> "16"; "9.6.22" -> "9.6")."""
    parts = version.split(".")
    if parts[0] == "9" and len(parts) > 1:
        return f"9.{parts[1]}"
    return parts[0]
