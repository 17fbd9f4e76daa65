"""Package layout the declarative table cannot say: the repository's top-level ``rules/`` and ``reports/``
folders install as ``auditor.rules`` and ``auditor.reports``, so no other distribution's (or the working
directory's) ``rules`` package can shadow the built-in catalogue. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

MAPPED = {"auditor.rules": "rules", "auditor.reports": "reports"}

setup(
    packages=[*find_packages(include=["auditor", "auditor.*"]), *MAPPED],
    package_dir=MAPPED,
)
