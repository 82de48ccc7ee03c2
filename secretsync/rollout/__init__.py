"""rollout layer (see docs/design.md, "Layers")."""
