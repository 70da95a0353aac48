"""RFC 6238 time-based one-time codes: new secrets, provisioning, and matching a code.

pyotp computes the codes; segno draws the QR code (pure Python, SVG, no Pillow).
Matching does the same work for every code, right or wrong: all time steps in
the skew window are computed and compared in constant time, without an early exit,
so how long a check takes says nothing about the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from pyotp.utils import strings_equal

DIGITS = 6
INTERVAL_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Provisioning:
    """What an authenticator app needs: the secret, its URI, and the URI as a QR code."""

    secret: str
    uri: str
    qr_svg: str


def new_secret() -> str:
    """A fresh base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(length=32)


def provisioning(secret: str, account: str, issuer: str) -> Provisioning:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )
    # Error correction M: survives a scuffed screen; scale 4 keeps the SVG small but scannable.
    qr_svg = segno.make(uri, error="m", micro=False).svg_inline(scale=4, title=issuer)
    return Provisioning(secret=secret, uri=uri, qr_svg=qr_svg)


def matching_step(secret: str, code: str, now: datetime, skew: int) -> int | None:
    """The time step `code` is valid for at `now` (within +-`skew` steps), or None."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL_SECONDS)
    current = totp.timecode(now)
    found: int | None = None
    for step in range(current - skew, current + skew + 1):
        # No early exit: every step in the window is computed and compared.
        if strings_equal(code, totp.generate_otp(step)) and found is None:
            found = step
    return found
