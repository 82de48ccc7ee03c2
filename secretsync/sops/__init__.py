"""sops layer (see docs/design.md, "Layers")."""
