"""Valid (and nearly valid) values built from their published algorithms, written
out here independently of the gateway's checks (python-stdnum)."""

from __future__ import annotations

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17: str) -> str:
    """GB 11643 / ISO 7064 MOD 11-2 check character."""
    check = (12 - sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def wrong_check(value: str) -> str:
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")


def luhn(prefix: str) -> str:
    """`prefix` completed with its Luhn check digit."""
    total = 0
    for i, char in enumerate(reversed(prefix)):
        digit = int(char) * (2 if i % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return prefix + str((10 - total % 10) % 10)


def iban(country: str, bban: str) -> str:
    """An IBAN with correct ISO 13616 mod-97 check digits."""
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    return f"{country}{98 - number % 97:02d}{bban}"
