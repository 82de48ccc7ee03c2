"""Resolution: what an ExternalSecret's Secret should contain, from its spec and provider reads.

Shared by the operator and `secretsync render`, so both produce the same bytes.
"""
