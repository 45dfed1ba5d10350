"""The one exception of the sync, and the sentences shared by its modules."""

from __future__ import annotations

# A backup router sits on the same LAN: if it has not answered in 5 s it will not.
# Read at call time (tests lower it), so always as `errors.TIMEOUT`.
TIMEOUT = 5.0


class SyncError(Exception):
    """The sync did not happen; str() is the sentence to show the admin."""


def ssh_sentence(where: str, exc: BaseException) -> str:
    """What a failed SSH step means, in the admin's words."""
    # start_client() gives up at its own deadline without raising; paramiko then
    # says "No existing session".
    if "banner" in str(exc) or "No existing session" in str(exc):
        return (
            f"Timed out: {where} did not answer as an SSH server within {TIMEOUT:g} s."
        )
    if "dropped" in str(exc) or isinstance(exc, EOFError):
        return f"The connection to {where} dropped. Nothing was changed on the backup."
    return f"SSH to {where} failed: {exc}."
