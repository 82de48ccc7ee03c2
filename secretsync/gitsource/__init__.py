"""gitsource layer (see DESIGN.md §2)."""
