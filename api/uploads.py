"""Streaming parser for the ``POST /api/generate`` body.

The body is parsed as it arrives (python-multipart's push parser over ``request.stream()``, see
form_stream.py) instead of through Starlette's ``request.form()``, for three reasons:

* the size limit is enforced while streaming: an 11 MB upload is refused at 10 MB + 1 byte, it is never
  buffered whole, and nothing is spooled to a temporary file (Starlette spools parts over 1 MB to /tmp);
* the file type is decided by magic bytes as soon as the first bytes of the file arrive, so a 10 MB PDF is
  refused after 16 bytes;
* unknown or repeated fields are refused while the request is still being read.

The image bytes stay in memory (at most ``MAX_IMAGE_BYTES``) and go to the artifact store via accept_brief.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from badapple_dagster.media.brief import MAX_IMAGE_BYTES, BriefError, sniff_image_type, validate_image_bytes

from .errors import ApiError, brief_error
from .form_stream import SNIFF_BYTES, FormSpec, parse_form

IMAGE_FIELD = "product_image"
TEXT_FIELDS = ("product_name", "style", "cta_text", "aspect_ratio", "seed", "voice", "dry_run",
               "script_provider", "voice_provider", "video_provider", "tts_voice")  # options: api/options.py
# Text values are short (the longest legal one is 100 characters); 4 KiB leaves room for 4-byte UTF-8.
MAX_TEXT_FIELD_BYTES = 4096
# Multipart framing (boundaries, part headers) and the text fields on top of the image.
BODY_OVERHEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = MAX_IMAGE_BYTES + BODY_OVERHEAD_BYTES


@dataclass
class GenerateForm:
    fields: dict[str, str] = field(default_factory=dict)
    image: bytes | None = None  # None: no file part, or an empty one (a browser form with no file chosen)


def _too_large(_name: str, received: str) -> ApiError:
    # One message for the image and the body as a whole: the image is the only thing that can be large.
    return ApiError(
        400,
        "FileTooLarge",
        "The image file is too large",
        f"{received}; the limit is {MAX_IMAGE_BYTES:,} bytes (10 MB)",
    )


def _sniff(head: bytes) -> None:
    if sniff_image_type(head[:SNIFF_BYTES]) is None:
        # brief.validate_image_bytes refuses unknown magic bytes before decoding anything, with the
        # project's wording ("The file looks like a GIF image"); feeding it the first bytes is enough.
        try:
            validate_image_bytes(head[:64])
        except BriefError as exc:
            raise brief_error(exc) from None
        raise ApiError(400, "InvalidFileType", "Unsupported file type; upload a JPEG, PNG or WebP image")


SPEC = FormSpec(
    text_fields=TEXT_FIELDS,
    file_limits={IMAGE_FIELD: MAX_IMAGE_BYTES},
    max_text_field_bytes=MAX_TEXT_FIELD_BYTES,
    body_overhead_bytes=BODY_OVERHEAD_BYTES,
    max_body_bytes=MAX_BODY_BYTES,
    too_large=_too_large,
    urlencoded_limit_note="without an image",
    sniffers={IMAGE_FIELD: _sniff},
)


async def parse_generate_form(request: Request) -> GenerateForm:
    parsed = await parse_form(SPEC, request)
    return GenerateForm(fields=parsed.fields, image=parsed.files.get(IMAGE_FIELD))
