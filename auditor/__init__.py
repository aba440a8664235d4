"""aurora-audit: configuration-drift and production-readiness auditor for Amazon Aurora."""

__version__ = "0.1.0"
