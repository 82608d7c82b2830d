"""Column types shared by every domain's models."""
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite drops the offset; without this, values read back from SQLite and
    PostgreSQL would compare differently.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def enum(*values: str, name: str) -> sa.Enum:
    """A string column restricted to ``values`` by a CHECK constraint.

    Not a native PostgreSQL enum: adding a value later is then a plain
    constraint change in a migration, the same on SQLite and PostgreSQL.
    """
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True,
                   length=max(len(v) for v in values), validate_strings=True)
