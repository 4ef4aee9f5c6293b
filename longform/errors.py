"""Errors a user can act on. The CLIs print them as one line and exit non-zero, with no traceback."""


class LongformError(Exception):
    """Base class: a problem with a message that names the fix."""

    exit_code = 1


class UserError(LongformError):
    """Bad input from the user (flag, file, spec, schema). Exit code 2."""

    exit_code = 2


class ModelError(LongformError):
    """A model backend failed for good (after bounded retries), or cannot be used."""

    exit_code = 3


class StructuredOutputError(ModelError):
    """The model's output never matched the JSON schema and no fallback was given."""
