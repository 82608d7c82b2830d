"""Backups (CP-9): ``flask --app wsgi backup create DIR`` and ``backup restore DIR``.

A backup directory holds the database (a SQLite file copied with SQLite's online backup API, or
one JSON-lines file per table read in one snapshot transaction), a copy of the evidence files,
and ``manifest.json`` with the SHA-256 of every file and the row count of every table.
"""
