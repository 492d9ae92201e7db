"""Jinja2 templates of the dashboard (a package so wheels ship them as package data)."""
