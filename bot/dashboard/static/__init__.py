"""The dashboard stylesheet (a package so wheels ship it as package data)."""
