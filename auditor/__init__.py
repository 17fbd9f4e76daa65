"""Multi-account AWS security posture auditor."""

__version__ = "0.1.0"
