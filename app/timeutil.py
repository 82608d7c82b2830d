from datetime import date, datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return date.today()


def human_date(value: date | None) -> str:
    """A date as every page shows it: "May 1, 2027" ("—" for none)."""
    return f"{value:%b} {value.day}, {value.year}" if value else "—"
