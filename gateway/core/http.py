"""HTTP basics every controller shares."""

from __future__ import annotations

from typing import Final

# Answers that carry a secret (a token, an enrolment, a grant, personal data in clear)
# say so, so no cache or proxy between the gateway and the caller keeps a copy.
NO_STORE: Final = {"Cache-Control": "no-store"}
