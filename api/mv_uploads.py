"""Streaming parser for the ``POST /api/mv/projects`` form: text fields, an optional song and reference image.

Same approach as uploads.py (the ad form), via form_stream.py: the body is parsed while it arrives with
python-multipart's push parser, so limits hold per byte (a 60 MB song is refused at 50 MB + 1, never buffered
whole or spooled to /tmp), unknown and repeated fields are refused while reading, and an image's type is
decided by its first bytes. The song's type is decided by its content later (ffprobe, in create_mv_project →
load_song): audio containers have too many legitimate openings (ID3 tags, bare MPEG frames, RIFF, ISO-BMFF)
to sniff safely. Filenames and part Content-Types are ignored: the client chooses both.
"""

from __future__ import annotations

from starlette.requests import Request

from badapple_dagster.media.brief import MAX_IMAGE_BYTES, sniff_image_type
from badapple_dagster.mv_submission import MAX_AUDIO_BYTES

from .errors import ApiError
from .form_stream import SNIFF_BYTES, FormSpec, ParsedForm, parse_form

AUDIO_FIELD = "audio"
IMAGE_FIELD = "reference_image"
FILE_LIMITS = {AUDIO_FIELD: MAX_AUDIO_BYTES, IMAGE_FIELD: MAX_IMAGE_BYTES}
TEXT_FIELDS = ("concept", "character_description", "config_flavor", "num_scenes", "video_duration", "seed",
               "scene_provider", "image_provider", "clip_provider", "dry_run")
MAX_TEXT_FIELD_BYTES = 4 * 2000 + 64  # 2000 characters of 4-byte UTF-8, the longest legal value
BODY_OVERHEAD_BYTES = 128 * 1024  # boundaries, part headers and the text fields
MAX_BODY_BYTES = MAX_AUDIO_BYTES + MAX_IMAGE_BYTES + BODY_OVERHEAD_BYTES


ProjectForm = ParsedForm  # fields and files (empty file parts, i.e. no file chosen, are left out)


def _too_large(name: str, received: str) -> ApiError:
    limit = FILE_LIMITS.get(name, MAX_BODY_BYTES)
    return ApiError(400, "FileTooLarge", f"The {name.replace('_', ' ')} file is too large",
                    f"{received}; the limit is {limit:,} bytes ({limit // (1024 * 1024)} MB)")


def _sniff_image(head: bytes) -> None:
    # Refuse a 10 MB PDF after 16 bytes; the full check (structure, decode, pixel limit) comes later.
    if sniff_image_type(head[:SNIFF_BYTES]) is None:
        raise ApiError(400, "InvalidFileType", "Unsupported reference image type; upload a JPEG, PNG or WebP image")


SPEC = FormSpec(
    text_fields=TEXT_FIELDS,
    file_limits=FILE_LIMITS,
    max_text_field_bytes=MAX_TEXT_FIELD_BYTES,
    body_overhead_bytes=BODY_OVERHEAD_BYTES,
    max_body_bytes=MAX_BODY_BYTES,
    too_large=_too_large,
    urlencoded_limit_note="without files",
    sniffers={IMAGE_FIELD: _sniff_image},
)


async def parse_project_form(request: Request) -> ProjectForm:
    return await parse_form(SPEC, request)
