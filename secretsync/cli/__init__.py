"""cli layer (see docs/design.md, "Layers")."""
