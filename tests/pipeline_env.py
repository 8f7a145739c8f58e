"""Helpers for tests that run the real pipeline in-process on a test Dagster instance."""

from __future__ import annotations

import io

from badapple_dagster.artifacts import artifact_store_from_settings
from badapple_dagster.settings import get_settings
from badapple_dagster.store.jobs import JobStore
from badapple_dagster.submission import accept_brief


def product_png(size: tuple[int, int] = (600, 800)) -> bytes:
    """A product shot made on the spot: a red bottle on a white studio background."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (250, 250, 250))
    d = ImageDraw.Draw(img)
    w, h = size
    d.rounded_rectangle([w * 0.35, h * 0.25, w * 0.65, h * 0.9], radius=40, fill=(200, 30, 40))
    d.rectangle([w * 0.44, h * 0.12, w * 0.56, h * 0.25], fill=(40, 40, 40))
    d.rectangle([w * 0.38, h * 0.5, w * 0.62, h * 0.62], fill=(250, 220, 60))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_job(**kw):
    s = get_settings()
    store = JobStore(s.database_url)
    args = {"product_name": "EcoWater Bottle", "style": "modern", "cta_text": "Buy Now!"} | kw
    return store, accept_brief(store, artifact_store_from_settings(), **args)
