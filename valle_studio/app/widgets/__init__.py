"""Widgets of the main window; each takes its model or service in ``__init__``."""
