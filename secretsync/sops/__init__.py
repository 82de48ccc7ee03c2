"""sops layer (see DESIGN.md §2)."""
