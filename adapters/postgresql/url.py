"""A PostgreSQL archive's URL, whose password never prints.

SQLAlchemy (its URL parser) is imported when the first URL is parsed, so that loading the
adapter's module (``convoport providers`` does, for every adapter) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import sqlalchemy as sa

#: The SQLAlchemy driver convoport uses for PostgreSQL.
DRIVER = "postgresql+psycopg"
_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


@attrs.frozen(repr=False, eq=True)
class DatabaseURL:
    """A PostgreSQL URL whose password never prints (``str``/``repr`` mask it)."""

    url: sa.URL

    @classmethod
    def parse(cls, value: Any) -> DatabaseURL:
        """From ``postgresql://user:password@host:port/db`` (or the ``//user@host/db`` a
        ``postgresql:`` connection string leaves after its colon). Query parameters go to
        the driver (``sslmode=require``...)."""
        if isinstance(value, DatabaseURL):
            return value
        text = str(value).strip()
        if text.startswith("//"):
            text = "postgresql:" + text
        import sqlalchemy as sa  # with the first PostgreSQL URL, not with the adapter's module

        try:
            url = sa.make_url(text)
        except Exception:
            raise ValueError(
                "expected a URL such as postgresql://user:password@host:5432/db"
            ) from None
        if url.drivername not in _SCHEMES:
            raise ValueError(f"expected a postgresql:// URL, got a {url.drivername}:// one")
        if not url.database:
            raise ValueError("the URL names no database (postgresql://user@host/DATABASE)")
        return cls(url.set(drivername="postgresql"))

    @property
    def password(self) -> str | None:
        password = self.url.password
        return None if password is None else str(password)

    def engine_url(self) -> sa.URL:
        return self.url.set(drivername=DRIVER)

    def __str__(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"DatabaseURL({str(self)!r})"


__all__ = ["DRIVER", "DatabaseURL"]
