"""The ``custom`` provider: a call is let in when it presents the desk's token (``CORRLEV_SERVER_TOKEN``).

xlwings Server calls ``validate_token`` with the ``Authorization`` header of
every function and script call when ``XLWINGS_AUTH_PROVIDERS=["custom"]``
(``corrlev-xl serve`` sets that when the token is set).  This replaces xlwings
Server's own example provider, which accepts the placeholder ``test-token``.
The token is read on every call, so it is never cached with a user.
"""

from fastapi import HTTPException, status  # type: ignore[import-not-found,import-untyped,unused-ignore]
from xlwings_server.models import User  # type: ignore[import-not-found,import-untyped,unused-ignore]

from corrlev_xl.server import auth


async def validate_token(token_string: str) -> User:
    expected = auth.expected_token()
    if auth.matches(token_string, expected):
        return User(id=auth.user_id(expected), name="desk user")
    raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED,
                        detail="corrlev-xl: not signed in; paste the desk's token into the corrlev-xl task pane")
