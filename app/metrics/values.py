"""A reading's value and a metric's definition as written: numbers, data-quality shares, components."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.metrics.models import COMPONENTS, DATA_QUALITY_DIRECTION, DATA_QUALITY_KINDS, Metric

#: Numeric(18, 4) holds at most 14 digits before the point, and keeps four after it.
MAX_ABS_VALUE = Decimal("1e14")
STORED_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


def format_number(value) -> str:
    """12757.0000 -> "12,757"; 94.5000 -> "94.5"."""
    if value is None:
        return "—"
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def with_unit(number: str, unit: str) -> str:
    """A number as written and its unit, one way everywhere: "70%", "70% of referrals" (US style,
    no space before a percent sign), "12,757 releases" (with a no-break space: the unit never starts
    the next line)."""
    unit = (unit or "").strip()
    if not unit:
        return number
    return f"{number}{unit}" if unit.startswith("%") else f"{number}\u00a0{unit}"


def parse_number(text: str) -> Decimal:
    """A finite decimal number; thousands separators are allowed. ValueError otherwise."""
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text.strip()!r} is not a number")
    # Compared as the column keeps it: 99999999999999.99999 is stored rounded, as 10^14.
    if abs(number) >= MAX_ABS_VALUE or abs(number.quantize(STORED_PLACES, rounding=ROUND_HALF_UP)) >= MAX_ABS_VALUE:
        raise ValueError(f"{text.strip()!r} is too large")
    return number


def data_quality_value(kind: str, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The percentage a data-quality reading stands for, from its two inputs."""
    if denominator <= 0:
        raise ValueError("the number expected, due or sampled must be more than zero")
    if numerator < 0:
        raise ValueError("counts cannot be negative")
    if numerator > denominator:
        raise ValueError("the first count cannot exceed the second")
    share = numerator / denominator * HUNDRED
    if kind == "accuracy":  # discrepancies found among the sampled records
        share = HUNDRED - share
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class ParsedValue:
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def parse_value(kind: str, text: str) -> ParsedValue:
    """A reading's value as written in a CSV cell. A data-quality metric also takes
    "numerator/denominator" (e.g. "940/1000"), from which the percentage is computed."""
    if kind in DATA_QUALITY_KINDS and "/" in (text or ""):
        top, _, bottom = text.partition("/")
        numerator, denominator = parse_number(top), parse_number(bottom)
        return ParsedValue(data_quality_value(kind, numerator, denominator), numerator, denominator)
    value = parse_number(text)
    if kind in DATA_QUALITY_KINDS and not 0 <= value <= 100:
        raise ValueError(f"{text.strip()!r} is not a percentage between 0 and 100")
    return ParsedValue(value)


def normalise_definition(metric: Metric) -> None:
    """Data-quality measures are percentages whose good direction their kind fixes."""
    if metric.kind in DATA_QUALITY_KINDS:
        metric.unit = "%"
        metric.direction = DATA_QUALITY_DIRECTION[metric.kind]


def parse_components(text: str) -> list[str]:
    """Component codes from "ICE, CBP, ICE/Houston"; ValueError names an unknown one."""
    result = []
    for part in (text or "").split(","):
        code = part.strip()
        if not code:
            continue
        agency, _, field_office = code.partition("/")
        agency = agency.strip().upper()
        if agency not in COMPONENTS:
            raise ValueError(
                f"unknown component {code!r}: use {', '.join(COMPONENTS)}, or a field office written like ICE/Houston"
            )
        code = f"{agency}/{field_office.strip()}" if field_office.strip() else agency
        if len(code) > 60:
            raise ValueError(f"component {code[:20]!r}… is longer than 60 characters")
        if code not in result:
            result.append(code)
    if not result:
        raise ValueError("name at least one component")
    return result
