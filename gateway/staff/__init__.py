"""Staff sign-in through the company's OpenID Connect identity providers: JWT access
tokens verified against each issuer's published keys, groups and clients mapped to the
policy's roles by `policies/identity.toml`, and step-up (RFC 9470) for reveals.
"""

from gateway.staff.config import SECTIONS as IDENTITY_SECTIONS
from gateway.staff.config import IdentityConfig, load_identity
from gateway.staff.mapping import StaffIdentity
from gateway.staff.service import StaffSignIn
from gateway.staff.verify import looks_like_jwt

__all__ = [
    "IDENTITY_SECTIONS",
    "IdentityConfig",
    "StaffIdentity",
    "StaffSignIn",
    "load_identity",
    "looks_like_jwt",
]
