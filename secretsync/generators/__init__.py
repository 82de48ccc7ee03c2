"""Generators (generators.external-secrets.io): values made on each sync rather than read from
a store. One module per kind behind the small protocol in base.py, beside the providers."""
