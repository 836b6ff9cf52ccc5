"""Syntax: Datum -> Core."""
