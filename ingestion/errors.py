"""Errors a user can fix: the CLI prints them as one line naming the setting and the fix."""

from __future__ import annotations


class UserError(Exception):
    """A problem with settings, demo data or a source the user can fix; not a bug."""
