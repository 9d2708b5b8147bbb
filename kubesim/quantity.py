"""Resource quantities (`500m`, `2Gi`, `1`), as the scheduler compares them.

quantity.go's grammar, reduced to what pod requests and node allocatable use: decimal
SI suffixes (`k`, `M`, `G`, `T`, `P`, `E`), binary ones (`Ki` ... `Ei`), milli (`m`)
and plain decimals. CPU is compared in millicores, everything else in base units.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}


def parse(value: str | int | float) -> Decimal:
    """A quantity as a Decimal in base units; ValueError if malformed."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(value.strip())
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation as exc:
        raise ValueError(f"invalid quantity {value!r}") from exc


def scheduling_units(resource: str, value: str | int | float) -> int:
    """The integer the scheduler adds up: millicores for `cpu`, base units otherwise
    (rounded up, as the scheduler rounds requests)."""
    amount = parse(value)
    if resource == "cpu":
        amount *= 1000
    return int(amount.to_integral_value(rounding="ROUND_CEILING"))
