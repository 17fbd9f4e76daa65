"""The ``auditor.yaml`` configuration file: environment overrides, required tags, rule options, and the
collection settings a scheduled run would otherwise repeat on its command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from auditor.errors import UserError

DEFAULT_REQUIRED_TAGS: tuple[str, ...] = ("Environment", "Owner", "CostCenter")
VALID_ENVIRONMENTS = ("prod", "non-prod", "sandbox", "security", "management", "unknown")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnvironmentConfig(_Strict):
    tag_keys: tuple[str, ...] = ("Environment", "env")
    accounts: dict[str, str] = Field(default_factory=dict)  # account id -> environment

    @field_validator("accounts")
    @classmethod
    def _known_environments(cls, value: dict[str, str]) -> dict[str, str]:
        for account_id, environment in value.items():
            if environment not in VALID_ENVIRONMENTS:
                raise ValueError(
                    f"account {account_id}: environment {environment!r} is not one of "
                    + ", ".join(VALID_ENVIRONMENTS)
                )
        return value


def account_id(value: object) -> str:
    # YAML reads an unquoted account id as a number (dropping leading zeros): put them back.
    text = f"{value:012d}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    if not (text.isdigit() and len(text) == 12):
        raise ValueError(f"{value!r} is not a 12-digit account id")
    return text


class CollectionConfig(_Strict):
    """Defaults for ``auditor audit`` / ``auditor collect``; a flag given on the command line wins."""

    regions: tuple[str, ...] = ()
    role_name: str | None = None
    external_id: str | None = None
    accounts: tuple[str, ...] = ()
    exclude_accounts: tuple[str, ...] = ()
    concurrency: int | None = Field(default=None, ge=1, le=64)
    processes: int | None = Field(default=None, ge=1, le=64)
    executor: Literal["local", "dask"] | None = None
    scheduler: str | None = None  # Dask scheduler address, e.g. tcp://dask-scheduler:8786

    @field_validator("accounts", "exclude_accounts", mode="before")
    @classmethod
    def _account_ids(cls, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of account ids")
        return tuple(account_id(item) for item in value)


class AuditorConfig(_Strict):
    collection: CollectionConfig = Field(default_factory=CollectionConfig)
    environments: EnvironmentConfig = Field(default_factory=EnvironmentConfig)
    required_tags: tuple[str, ...] = DEFAULT_REQUIRED_TAGS
    stale_days: int = 90  # keys, passwords and admin grants unused this long are stale
    key_max_age_days: int = 90


def resolve_config_path(path: Path | None) -> Path | None:
    """The config file to read: the one given, else ``./auditor.yaml`` when it exists, else none."""
    if path is not None:
        return path
    default = Path("auditor.yaml")
    return default if default.is_file() else None


def load_config(path: Path | None) -> AuditorConfig:
    """Read ``auditor.yaml``; no path (and no ``./auditor.yaml``) gives the defaults."""
    path = resolve_config_path(path)
    if path is None:
        return AuditorConfig()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"config file {path} is a directory; give the path of the auditor.yaml file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"config file {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise UserError(f"config file {path} cannot be read ({exc.strerror or exc})") from None
    except RecursionError:
        raise UserError(f"config file {path} is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise UserError(f"config file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if raw is None:
        return AuditorConfig()
    if not isinstance(raw, dict):
        raise UserError(f"config file {path} must be a mapping at the top level")
    known = {key: value for key, value in raw.items() if key != "suppressions"}
    try:
        return AuditorConfig.model_validate(known)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserError(f"config file {path}: {where}: {first['msg']}") from None
