"""HTTP basics every controller shares."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

# Answers that carry a secret (a token, an enrolment, a grant, personal data in clear)
# say so, so no cache or proxy between the gateway and the caller keeps a copy.
NO_STORE: Final = {"Cache-Control": "no-store"}


class Answer(BaseModel):
    """Base of the documents routes answer with: fixed once built, and a service's view
    with a key the document does not name is an error, not a silent extra field."""

    model_config = ConfigDict(extra="forbid", frozen=True)
