"""Reusable pieces of the Dash pages: controls, figures, tables, layout helpers."""
