"""operator layer (see DESIGN.md §2)."""
