"""Photos people send (a child's photo, by Telegram today): checked, stripped of every metadata, stored on disk.

    store_photo(data_dir, data) -> StoredPhoto        (raises PhotoError, an InputError, for what cannot be used)
    read_photo(data_dir, photo_id) -> bytes | None    (the JPEG, decrypted; officers' tools read it, nobody else)
    reencrypt_photos(data_dir, keyring) -> (sealed, unchanged)   (key rotation: seal each with the newest key)

A photo is kept outside the database, under `<data folder>/photos/<random id>.enc`, named by a random id that says
nothing about the person, encrypted with the data keys (`intake.platform.crypto`, as the genotypes are), and it is never
served by the web service. A photo kept before encryption (`<random id>.jpg`, plaintext) is still read, until
`reunite keys reencrypt` seals it. Only JPEG, PNG and WebP of at most
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
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from intake.platform import crypto
from intake.platform.errors import InputError

PHOTO_FOLDER = "photos"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; anything bigger is refused before it is decoded
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
CONTENT_TYPE = "image/jpeg"
SUFFIX = ".enc"
PLAINTEXT_SUFFIX = ".jpg"  # photos kept before they were encrypted
LABEL = "photo"  # bound into each sealed photo (intake.platform.crypto)
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
    """Return where the photo `photo_id` is kept, encrypted; refuse an id that is not one of ours (no path tricks)."""
    if not _PHOTO_ID.fullmatch(photo_id):
        raise PhotoError("That is not a photo id.")
    return data_dir / PHOTO_FOLDER / f"{photo_id}{SUFFIX}"


def read_photo(data_dir: Path, photo_id: str) -> bytes | None:
    """Return the JPEG of a stored photo, decrypted, or None if there is none (DataKeyError: no key opens it)."""
    path = photo_path(data_dir, photo_id)
    try:
        return crypto.current().decrypt(path.read_bytes(), LABEL)
    except FileNotFoundError:
        pass
    try:
        return path.with_suffix(PLAINTEXT_SUFFIX).read_bytes()
    except FileNotFoundError:
        return None


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


def _write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file and rename it to `path`, so a crash never leaves half a photo."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-", suffix=SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_photo(data_dir: Path, data: bytes) -> StoredPhoto:
    """Check and clean the photo in `data` and keep it, encrypted, under the data folder; return its id."""
    cleaned = clean_image(data)
    folder = data_dir / PHOTO_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    photo_id = secrets.token_hex(16)
    path = photo_path(data_dir, photo_id)
    _write(path, crypto.current().encrypt(cleaned, LABEL))
    return StoredPhoto(photo_id, CONTENT_TYPE, len(cleaned), path)


def delete_photo(data_dir: Path, photo_id: str) -> bool:
    """Delete a stored photo (erasure), encrypted or kept before encryption; return whether there was one."""
    path = photo_path(data_dir, photo_id)
    existed = False
    for each in (path, path.with_suffix(PLAINTEXT_SUFFIX)):
        existed = each.exists() or existed
        each.unlink(missing_ok=True)
    return existed


def stored_photo_ids(data_dir: Path, *, written_before: float) -> set[str]:
    """Return the ids of the stored photos whose file was last written before `written_before` (a POSIX time)."""
    folder = data_dir / PHOTO_FOLDER
    found: set[str] = set()
    if folder.is_dir():
        for path in folder.iterdir():
            if not _PHOTO_ID.fullmatch(path.stem) or path.suffix not in (SUFFIX, PLAINTEXT_SUFFIX):
                continue
            try:
                if path.stat().st_mtime < written_before:
                    found.add(path.stem)
            except FileNotFoundError:  # deleted meanwhile
                continue
    return found


def photo_key_usage(data_dir: Path) -> Counter[str]:
    """Return how many stored photos each key id sealed ("plaintext": kept before encryption)."""
    counts: Counter[str] = Counter()
    folder = data_dir / PHOTO_FOLDER
    if folder.is_dir():
        for path in folder.iterdir():
            if not _PHOTO_ID.fullmatch(path.stem) or path.suffix not in (SUFFIX, PLAINTEXT_SUFFIX):
                continue
            with path.open("rb") as f:
                head = f.read(crypto.HEADER_BYTES)
            counts[(crypto.sealed_key_id(head) if path.suffix == SUFFIX else None) or "plaintext"] += 1
    return counts


def reencrypt_photos(data_dir: Path, keyring: crypto.Keyring) -> tuple[int, int]:
    """Seal every stored photo with the newest key (plaintext ones too); return (sealed, already sealed so).

    Safe while the service runs: each photo is written anew under a temporary name and renamed over the old
    file, and a photo deleted meanwhile is not brought back.
    """
    folder = data_dir / PHOTO_FOLDER
    sealed = unchanged = 0
    if not folder.is_dir():
        return 0, 0
    for path in sorted(folder.iterdir()):
        if not _PHOTO_ID.fullmatch(path.stem) or path.suffix not in (SUFFIX, PLAINTEXT_SUFFIX):
            continue
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # deleted meanwhile
            continue
        if path.suffix == PLAINTEXT_SUFFIX:
            new = keyring.encrypt(data, LABEL)
        else:
            resealed = keyring.reseal(data, LABEL)
            if resealed is None:
                unchanged += 1
                continue
            new = resealed
        target = path.with_suffix(SUFFIX)
        if not path.exists():  # erased while we read it
            continue
        _write(target, new)
        if path != target:
            path.unlink(missing_ok=True)
        sealed += 1
    return sealed, unchanged
