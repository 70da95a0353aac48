"""Who is calling: bearer tokens, principals (the people and apps of the company's
identity provider among them, through `gateway.staff`), and each gateway-token
principal's second factor (TOTP).

The principal type itself (`gateway.core.principal.Principal`) is a core basic: the
access log names it, and the log sits below this capability.
"""

from gateway.auth.factor_rotation import pending as factors_pending
from gateway.auth.factor_rotation import reseal_all as reseal_factors
from gateway.auth.factor_rotation import versions_in_use as factor_kek_versions
from gateway.auth.factors import FactorRules, Outcome, SecondFactors, revealable_fields
from gateway.auth.middleware import AuthedRequest, BearerAuthMiddleware
from gateway.auth.people import People
from gateway.auth.routes import PeopleController, PrincipalController, TotpController
from gateway.auth.schemas import Code
from gateway.auth.service import NewPrincipal, PrincipalService
from gateway.auth.store import count_principals
from gateway.auth.tokens import Authenticator, hash_secret

__all__ = [
    "AuthedRequest",
    "Authenticator",
    "BearerAuthMiddleware",
    "Code",
    "FactorRules",
    "NewPrincipal",
    "Outcome",
    "People",
    "PeopleController",
    "PrincipalController",
    "PrincipalService",
    "SecondFactors",
    "TotpController",
    "count_principals",
    "factor_kek_versions",
    "factors_pending",
    "hash_secret",
    "reseal_factors",
    "revealable_fields",
]
