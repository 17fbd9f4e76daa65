"""The CIS foundations settings of one account, collected together: IAM extras, logging and monitoring,
storage and network (one module per service area; this one only calls them in order)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.collect.iam_extras import collect_iam_extras
from auditor.collect.logging import collect_logging
from auditor.collect.network import collect_network
from auditor.collect.session import ClientFactory, Gaps
from auditor.collect.storage import collect_storage
from auditor.model import IamExtras, LoggingData, NetworkData, Resource, StorageData


@dataclass(frozen=True)
class FoundationSettings:
    iam_extras: IamExtras
    logging: LoggingData
    storage: StorageData
    network: NetworkData


def collect_foundations(
    factory: ClientFactory, regions: tuple[str, ...], home_region: str, partition: str, gaps: Gaps,
    resources: tuple[Resource, ...],
) -> FoundationSettings:
    """Reads that need the resource inventory (KMS keys, buckets, RDS regions) take it from ``resources``."""
    return FoundationSettings(
        iam_extras=collect_iam_extras(factory, regions, home_region, gaps),
        logging=collect_logging(factory, regions, gaps, resources),
        storage=collect_storage(factory, regions, home_region, gaps, resources),
        network=collect_network(factory, regions, partition, gaps, resources),
    )
