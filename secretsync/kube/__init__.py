"""kube layer (see docs/design.md, "Layers")."""
