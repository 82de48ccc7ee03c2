"""rollout layer (see DESIGN.md §2)."""
