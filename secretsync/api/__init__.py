"""api layer (see docs/design.md, "Layers")."""
