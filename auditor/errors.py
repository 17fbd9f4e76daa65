"""Errors the user can act on: the CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """A mistake in input (flags, config, snapshot, credentials) with a message a user can act on."""


class SnapshotError(UserError):
    """A snapshot directory that is missing, corrupt or of an unsupported version."""
