"""template layer (see DESIGN.md §2)."""
