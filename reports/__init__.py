"""Jinja2 templates for the reports (package data)."""
