"""operator layer (see docs/design.md, "Layers")."""
