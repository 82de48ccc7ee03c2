"""kube layer (see DESIGN.md §2)."""
