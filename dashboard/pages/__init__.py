"""Dash Pages, imported by ``dashboard.app.create_dash_app`` after the app exists."""
