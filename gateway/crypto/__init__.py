"""Keys and cryptography: key material, envelope encryption, blind indexes.

Never logs, prints or stores key material or plaintext personal data.
"""
