"""One exception hierarchy for everything DataWarp reports to a user.

Each error carries a one-line message meant for the user (naming the file, field or row at
fault). The CLI prints it and exits with ``exit_code``: 2 for bad input, 1 for a failed load.
"""


class DataWarpError(Exception):
    """Base class: a user-facing, one-line message and the exit code the CLI should use."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInputError(DataWarpError):
    """The user's input (an option, a file, a manifest) is wrong; nothing was written."""

    exit_code = 2


class NotFoundError(BadInputError):
    """A named object (source, load, file, sheet, member) does not exist."""


class ConflictError(BadInputError):
    """The request clashes with existing state (duplicate source, forbidden transition)."""


class DatabaseError(DataWarpError):
    """The database could not be reached or refused an operation."""

    exit_code = 1


class ConnectionLost(DatabaseError):
    """The database went away in the middle of work; nothing of that work was committed."""


class InputProblems(BadInputError):
    """Several problems found at once (a manifest, the pre-load checks, the settings).

    ``problems`` holds one line per problem; the CLI prints each on its own line.
    """

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class LoadAborted(DataWarpError):
    """A load could not go ahead (another process is loading the source); nothing was loaded."""

    exit_code = 1


class PermissionDenied(DataWarpError):
    """The user's DataWarp role does not allow this; nothing was written."""

    exit_code = 1
