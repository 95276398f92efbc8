"""Photos are kept under the data folder by random id, re-encoded without any metadata (EXIF GPS above all)."""

from __future__ import annotations

import io
import stat

import pytest
from PIL import Image

from intake.platform import photos
from intake.platform.photos import PhotoError, clean_image, photo_path, read_photo, store_photo

GPS_IFD = 0x8825


def photo_with_gps(kind: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """Return a small photo whose EXIF holds a GPS position (Beijing), a camera, a comment and an orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 15.0), 3: "E", 4: (116.0, 24.0, 26.0)}
    out = io.BytesIO()
    image.save(out, kind, exif=exif.tobytes(), **({"comment": b"secret"} if kind == "JPEG" else {}))
    return out.getvalue()


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_gps_and_every_other_metadata_are_stripped(tmp_path, kind):
    original = photo_with_gps(kind)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo does carry a position
    stored = store_photo(tmp_path, original)
    data = read_photo(tmp_path, stored.id)  # as officers' tools read it, decrypted
    assert data is not None
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.format == "JPEG"
        assert not kept.getexif() and not kept.getexif().get_ifd(GPS_IFD)
        assert "exif" not in kept.info and "comment" not in kept.info and "icc_profile" not in kept.info
        assert kept.size == (48, 64)  # the orientation was applied to the pixels, then dropped
    assert b"Exif" not in data and b"PhoneMaker" not in data and b"secret" not in data


def test_stored_by_random_id_under_the_data_folder_readable_by_the_service_only(tmp_path):
    first, second = store_photo(tmp_path, photo_with_gps()), store_photo(tmp_path, photo_with_gps())
    assert first.id != second.id and len(first.id) == 32
    assert first.path == tmp_path / "photos" / f"{first.id}.enc" == photo_path(tmp_path, first.id)
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert [
        p.name for p in (tmp_path / "photos").iterdir() if p.name.startswith(".")
    ] == []  # no temporary files


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, not an image", b"GIF89a" + b"\0" * 100, photo_with_gps()[:200]],
    ids=["empty", "text", "gif", "truncated"],
)
def test_what_is_not_a_whole_jpeg_png_or_webp_is_refused_with_a_reason(tmp_path, data):
    with pytest.raises(PhotoError):
        store_photo(tmp_path, data)
    assert not (tmp_path / "photos").exists() or list((tmp_path / "photos").iterdir()) == []


def test_a_gif_is_refused_as_a_type(tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    with pytest.raises(PhotoError, match="JPEG, PNG or WebP"):
        clean_image(out.getvalue())


def test_too_large_in_bytes_or_pixels_is_refused(tmp_path, monkeypatch):
    with pytest.raises(PhotoError, match="larger than"):
        clean_image(b"\xff" * (photos.MAX_PHOTO_BYTES + 1))
    monkeypatch.setattr(photos, "MAX_PIXELS", 100)
    with pytest.raises(PhotoError, match="too many pixels"):
        clean_image(photo_with_gps(size=(20, 20)))


def test_a_photo_id_is_never_a_path(tmp_path):
    for bad in ("../../etc/passwd", "x" * 32, "ABCDEF" * 6):
        with pytest.raises(PhotoError):
            photo_path(tmp_path, bad)


def test_a_transparent_png_is_kept_on_white(tmp_path):
    out = io.BytesIO()
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(out, "PNG")
    with Image.open(io.BytesIO(clean_image(out.getvalue()))) as kept:
        assert kept.mode == "RGB" and kept.getpixel((1, 1))[0] > 240
