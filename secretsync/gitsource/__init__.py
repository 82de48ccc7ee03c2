"""gitsource layer (see docs/design.md, "Layers")."""
