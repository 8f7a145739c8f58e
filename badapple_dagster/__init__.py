"""badapple: product brief -> finished ad video, orchestrated by Dagster.

Kept import-light on purpose: every Dagster run worker and the API import this package, so the Dagster
definitions live in ``badapple_dagster.definitions`` and the media engine in ``badapple_dagster.media``.
"""
