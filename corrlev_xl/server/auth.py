"""The desk token: what ``serve`` requires and what the server's ``auth/custom`` provider checks.

The token is one shared secret in :data:`~corrlev_xl.server.TOKEN_ENV`.
Excel sends it in the ``Authorization`` header (``static/js/auth.js`` of the
project folder reads it from the task pane, where a user pastes it once); a
``Bearer`` prefix is accepted.  The comparison takes the same time whatever
the token sent.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping

from . import MIN_TOKEN_LENGTH, PLACEHOLDER_TOKENS, TOKEN_ENV


def expected_token(environ: Mapping[str, str] | None = None) -> str:
    """The configured token (surrounding spaces dropped), or ``""`` when none is set."""
    env = os.environ if environ is None else environ
    return env.get(TOKEN_ENV, "").strip()


def token_problem(token: str) -> str | None:
    """Why ``token`` may not protect a desk's positions, or None when it may."""
    if not token:
        return f"{TOKEN_ENV} is not set"
    if token in PLACEHOLDER_TOKENS:
        return f"{TOKEN_ENV} is {token!r}, a placeholder everybody knows"
    if len(token) < MIN_TOKEN_LENGTH:
        return f"{TOKEN_ENV} has {len(token)} characters; use at least {MIN_TOKEN_LENGTH}"
    return None


def matches(sent: str, expected: str) -> bool:
    """Whether the ``Authorization`` header ``sent`` carries the token ``expected`` (never an unusable one)."""
    if token_problem(expected) is not None:
        return False
    given = sent.strip()
    if given[:7].lower() == "bearer ":
        given = given[7:].strip()
    return secrets.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def user_id(token: str) -> str:
    """A short name for the holder of ``token`` in the logs, which never shows the token itself."""
    return "desk-" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]


def new_token() -> str:
    """A fresh random token, for the message that asks for one."""
    return secrets.token_urlsafe(32)
