"""Photos people send (a child's photo, by Telegram today): checked, stripped of every metadata, stored on disk.

    store_photo(data_dir, data) -> StoredPhoto        (raises PhotoError, an InputError, for what cannot be used)
    photo_path(data_dir, photo_id) -> Path            (where a stored photo is; officers' tools read it, nobody else)

A photo is kept outside the database, under `<data folder>/photos/<random id>.jpg`, named by a random id that says
nothing about the person, and it is never served by the web service. Only JPEG, PNG and WebP of at most
MAX_PHOTO_BYTES and MAX_PIXELS are taken, and only if the image decodes completely. Every photo is decoded and
written anew as a JPEG from its pixels alone, so nothing of the original file survives: no EXIF (GPS position,
camera, time), no XMP, no comments, no ICC profile. The EXIF orientation is applied to the pixels first, so the
photo still stands the right way up.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from intake.errors import InputError

PHOTO_FOLDER = "photos"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; anything bigger is refused before it is decoded
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPE = "image/jpeg"
JPEG_QUALITY = 90
_PHOTO_ID = re.compile(r"[0-9a-f]{32}")


class PhotoError(InputError):
    """A photo that cannot be kept: too large, not an image, or not a JPEG, PNG or WebP that decodes."""


@dataclass(frozen=True)
class StoredPhoto:
    """A photo kept on disk: its random id, its content type, its size in bytes and where it is."""

    id: str
    content_type: str
    size: int
    path: Path


def too_large() -> PhotoError:
    """Return the error for a photo over MAX_PHOTO_BYTES (a channel may know the size before downloading)."""
    return PhotoError("The photo is larger than %(mb)s MB. Please send a smaller one.",
                      mb=MAX_PHOTO_BYTES // (1024 * 1024))  # fmt: skip


def photo_path(data_dir: Path, photo_id: str) -> Path:
    """Return where the photo `photo_id` is kept; refuse an id that is not one of ours (no path tricks)."""
    if not _PHOTO_ID.fullmatch(photo_id):
        raise PhotoError("That is not a photo id.")
    return data_dir / PHOTO_FOLDER / f"{photo_id}.jpg"


def clean_image(data: bytes) -> bytes:
    """Return the photo in `data` as a new JPEG made from its pixels only, or raise PhotoError."""
    if len(data) > MAX_PHOTO_BYTES:
        raise too_large()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise PhotoError("Please send a photo as JPEG, PNG or WebP.")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError("The photo has too many pixels. Please send a smaller one.")
                probe.verify()  # the file's structure (checksums of PNG chunks, JPEG markers)
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # every pixel decodes, not only the header
                upright = ImageOps.exif_transpose(image)
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):  # fmt: skip
        raise PhotoError(
            "That file is not a photo we can read. Please send a JPEG, PNG or WebP photo."
        ) from None
    rgb = _on_white(upright)
    # A new image from the raw pixels carries no info dict at all: no EXIF, XMP, ICC profile or comment.
    pixels = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """Return the image in RGB, transparent parts on white (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def store_photo(data_dir: Path, data: bytes) -> StoredPhoto:
    """Check and clean the photo in `data` and keep it under the data folder; return where and under which id."""
    cleaned = clean_image(data)
    folder = data_dir / PHOTO_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    photo_id = secrets.token_hex(16)
    path = photo_path(data_dir, photo_id)
    # Written to a temporary file and renamed, so a crash never leaves half a photo under a real id.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".jpg")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(cleaned)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return StoredPhoto(photo_id, CONTENT_TYPE, len(cleaned), path)


def delete_photo(data_dir: Path, photo_id: str) -> bool:
    """Delete a stored photo (erasure); return whether there was one."""
    path = photo_path(data_dir, photo_id)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed
