"""Every input format of issue 16, made by the libraries that write it, through ingest and a w=200 variant."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import blurhash
import fast_thumbhash
import numpy as np
import pillow_heif
import pytest
import pyvips
from PIL import Image

from pinhole.errors import CorruptImage
from pinhole.imaging import OutputLimits, make_transform, prepare_original, render
from pinhole.imaging.inspect import ImageLimits
from pinhole.imaging.placeholder import compute, small_from
from tests.imaging.conftest import WriteFile
from tests.support import pillow_images as fixtures
from tests.support.images import (
    HTML_PAYLOAD,
    assert_image,
    make_gif,
    polyglot,
    red_block_corner,
    similarity,
    solid,
)

WIDTH, HEIGHT = 480, 320

CASES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    # name: (maker, stored format, format of a w=200 variant without an explicit format)
    "heic": (lambda: fixtures.make_heic(WIDTH, HEIGHT), "heic", "jpeg"),
    "heic-10bit": (lambda: fixtures.make_heic(WIDTH, HEIGHT, ten_bit=True), "heic", "jpeg"),
    "heic-rotated": (lambda: fixtures.make_heic(WIDTH, HEIGHT, orientation=6), "heic", "jpeg"),
    "heic-p3": (lambda: fixtures.make_heic(WIDTH, HEIGHT, p3=True), "heic", "jpeg"),
    "jxl": (lambda: fixtures.make_jxl(WIDTH, HEIGHT), "jxl", "jpeg"),
    "jxl-grey": (lambda: fixtures.make_jxl(WIDTH, HEIGHT, mode="L"), "jxl", "jpeg"),
    "jxl-alpha": (lambda: fixtures.make_jxl(WIDTH, HEIGHT, mode="RGBA"), "jxl", "png"),
    "bmp": (lambda: fixtures.make_bmp(WIDTH, HEIGHT), "bmp", "jpeg"),
    "bmp-grey": (lambda: fixtures.make_bmp(WIDTH, HEIGHT, mode="L"), "bmp", "jpeg"),
    "tiff": (lambda: fixtures.make_tiff(WIDTH, HEIGHT), "tiff", "jpeg"),
    "tiff-cmyk": (lambda: fixtures.make_tiff(WIDTH, HEIGHT, kind="cmyk"), "tiff", "jpeg"),
    "tiff-grey16": (lambda: fixtures.make_tiff(WIDTH, HEIGHT, kind="grey16"), "tiff", "jpeg"),
    "tiff-alpha": (lambda: fixtures.make_tiff(WIDTH, HEIGHT, kind="rgba"), "tiff", "png"),
    "tiff-pages": (lambda: fixtures.make_tiff(WIDTH, HEIGHT, kind="pages"), "tiff", "jpeg"),
    "mpo": (lambda: fixtures.make_mpo(WIDTH, HEIGHT), "jpeg", "jpeg"),
    "motion-photo": (lambda: fixtures.make_motion_photo(WIDTH, HEIGHT), "jpeg", "jpeg"),
}


@pytest.fixture
def big_limits() -> ImageLimits:
    return ImageLimits(max_pixels=4_000_000, max_frames=20)


def _w200(data: bytes, fmt_name: str, output_limits: OutputLimits) -> bytes:
    from pinhole.imaging.formats import format_named

    source_format = format_named(fmt_name)
    assert source_format is not None
    return render(data, options=make_transform(width=200, limits=output_limits), source_format=source_format).data


def _greyish(name: str) -> bool:
    """Greyscale, and CMYK converted naively by Pillow (no profile): same structure, other colours."""
    return "grey" in name or "cmyk" in name


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("strip", [True, False])
def test_input_format_round_trip(
    name: str, strip: bool, upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits
) -> None:
    maker, stored, variant_format = CASES[name]
    prepared = prepare_original(
        upload(maker(), f"upload-{name}"), work_dir=work_dir, limits=big_limits, strip_metadata=strip, placeholders=True
    )
    assert (prepared.format.name, prepared.width, prepared.height, prepared.frames) == (stored, WIDTH, HEIGHT, 1)
    assert prepared.placeholder is not None
    variant = _w200(prepared.path.read_bytes(), stored, output_limits)
    assert_image(variant, format=variant_format, width=200, height=round(200 * HEIGHT / WIDTH))
    reference = fixtures.reference_png(WIDTH, HEIGHT)
    assert similarity(variant, reference) > (0.75 if _greyish(name) else 0.85)
    if "grey" not in name:
        assert red_block_corner(variant) == "top-left"


def test_mpo_and_motion_photo_keep_only_the_primary_image(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits
) -> None:
    for data in (fixtures.make_mpo(WIDTH, HEIGHT), fixtures.make_motion_photo(WIDTH, HEIGHT)):
        prepared = prepare_original(
            upload(data, "camera.jpg"), work_dir=work_dir, limits=big_limits, strip_metadata=False
        )
        stored = prepared.path.read_bytes()
        assert len(stored) < len(data)
        assert stored.endswith(b"\xff\xd9")
        assert b"ftyp" not in stored[-64:]


@pytest.mark.parametrize(
    "payload",
    [HTML_PAYLOAD, b"%PDF-1.7\n1 0 obj<<>>endobj\n", None],
    ids=["html", "pdf", "zip"],
)
def test_dangerous_polyglots_stay_refused(
    payload: bytes | None, upload: WriteFile, work_dir: Path, big_limits: ImageLimits
) -> None:
    for base in (
        fixtures.make_mpo(WIDTH, HEIGHT),
        fixtures.make_motion_photo(WIDTH, HEIGHT),
        fixtures.make_bmp(64, 48),
    ):
        with pytest.raises(CorruptImage) as caught:
            prepare_original(
                upload(polyglot(base, payload=payload), "p.jpg"),
                work_dir=work_dir,
                limits=big_limits,
                strip_metadata=True,
            )
        assert caught.value.details["reason"] == "trailing_data"


def test_bare_jxl_codestream_with_an_html_tail_is_refused(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits
) -> None:
    with pytest.raises(CorruptImage):
        prepare_original(
            upload(polyglot(fixtures.make_jxl(64, 48), payload=HTML_PAYLOAD), "p.jxl"),
            work_dir=work_dir,
            limits=big_limits,
            strip_metadata=True,
        )


def test_heic_limits_are_checked_before_decoding(upload: WriteFile, work_dir: Path) -> None:
    from pinhole.errors import ImageTooLarge

    with pytest.raises(ImageTooLarge):
        prepare_original(
            upload(fixtures.make_heic(WIDTH, HEIGHT), "big.heic"),
            work_dir=work_dir,
            limits=ImageLimits(max_pixels=WIDTH * HEIGHT - 1, max_frames=5),
            strip_metadata=True,
        )


def test_apng_stays_animated(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits
) -> None:
    prepared = prepare_original(
        upload(fixtures.make_apng(90, 60), "a.png"), work_dir=work_dir, limits=big_limits, strip_metadata=True
    )
    assert (prepared.format.name, prepared.frames) == ("apng", 3)
    variant = render(
        prepared.path.read_bytes(),
        options=make_transform(width=45, limits=output_limits),
        source_format=prepared.format,
    )
    assert (variant.format.name, variant.width, variant.height, variant.frames) == ("apng", 45, 30, 3)
    with Image.open(io.BytesIO(variant.data)) as image:
        assert getattr(image, "n_frames", 1) == 3
        strongest = []
        for index in range(3):
            image.seek(index)
            pixel = np.asarray(image.convert("RGB"))[15, 20]
            strongest.append(int(np.argmax(pixel)))
    assert strongest == [0, 1, 2]  # red, green, blue frames, in order


def test_animated_avif_resizes(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits
) -> None:
    """Issue 17: the upload check opened it with the HEIF loader, rendering relied on detection (422). Issue 16:
    every frame is kept (Pillow's libavif reads and writes AVIF sequences; libvips' libheif reads the first only)."""
    prepared = prepare_original(
        upload(fixtures.make_animated_avif(80, 60), "a.avif"), work_dir=work_dir, limits=big_limits, strip_metadata=True
    )
    assert (prepared.format.name, prepared.frames) == ("avif", 3)
    variant = render(
        prepared.path.read_bytes(),
        options=make_transform(width=40, limits=output_limits),
        source_format=prepared.format,
    )
    assert (variant.format.name, variant.width, variant.height, variant.frames) == ("avif", 40, 30, 3)
    _assert_same_frames(variant.data, fixtures.make_animated_avif(80, 60), 3)


def _assert_same_frames(variant: bytes, source: bytes, frames: int) -> None:
    """The variant's frames are the source's first `frames`, in order: mean colours within lossy-coding error."""
    got, want = _frame_colours(variant), _frame_colours(source)[:frames]
    assert len(got) == len(want)
    for seen, expected in zip(got, want, strict=True):
        assert max(abs(a - b) for a, b in zip(seen, expected, strict=True)) <= 24, (got, want)


def _frame_colours(data: bytes) -> list[tuple[int, ...]]:
    """Each frame's mean colour, as Pillow (the reference reader of every format here) decodes it."""
    with Image.open(io.BytesIO(data)) as image:
        colours = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            frame = image.convert("RGB")
            colours.append(tuple(int(v) for v in np.asarray(frame, dtype=np.float64).mean(axis=(0, 1))))
        return colours


@pytest.mark.parametrize(("fmt", "frames"), [("webp", 3), ("gif", 3), ("avif", 3), ("png", 1), ("jpeg", 1)])
def test_an_animated_avif_stays_animated_where_the_output_can(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits, fmt: str, frames: int
) -> None:
    source = fixtures.make_animated_avif(80, 60)
    prepared = prepare_original(upload(source, "a.avif"), work_dir=work_dir, limits=big_limits, strip_metadata=True)
    variant = render(
        prepared.path.read_bytes(),
        options=make_transform(width=40, format=fmt, limits=output_limits),
        source_format=prepared.format,
    )
    assert (variant.format.name, variant.width, variant.height, variant.frames) == (fmt, 40, 30, frames)
    _assert_same_frames(variant.data, source, frames)


def test_an_animated_gif_becomes_an_animated_avif(output_limits: OutputLimits) -> None:
    from pinhole.imaging.formats import format_named

    gif = format_named("gif")
    assert gif is not None
    source = make_gif(60, 40, frames=3)
    variant = render(source, options=make_transform(width=30, format="avif", limits=output_limits), source_format=gif)
    assert (variant.format.name, variant.width, variant.height, variant.frames) == ("avif", 30, 20, 3)
    with Image.open(io.BytesIO(variant.data)) as image:
        assert (image.format, getattr(image, "n_frames", 1)) == ("AVIF", 3)
    _assert_same_frames(variant.data, source, 3)


def _decoded_thumbhash(value: str) -> np.ndarray:
    import base64

    width, height, rgba = fast_thumbhash.thumb_hash_to_rgba(base64.b64decode(value))
    return np.frombuffer(bytes(rgba), dtype=np.uint8).reshape(height, width, 4)[..., :3]


def _reference_small(data: bytes, size: tuple[int, int]) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.BOX)).astype(np.float64)


def test_placeholders_decode_to_a_picture_like_the_original() -> None:
    """Left half blue, right half orange: both hashes decode (reference decoders) to the same layout."""
    left = solid(200, 100, [20, 60, 220])
    image = left.insert(solid(100, 100, [250, 150, 20]), 100, 0).copy(interpretation="srgb")
    png = bytes(image.pngsave_buffer())
    placeholder = compute(small_from(image))
    decoded_blur = np.asarray(blurhash.decode(placeholder.blurhash, 32, 16), dtype=np.float64)
    decoded_thumb = _decoded_thumbhash(placeholder.thumbhash).astype(np.float64)
    for decoded in (decoded_blur, decoded_thumb):
        height, width = decoded.shape[:2]
        reference = _reference_small(png, (width, height))
        assert np.abs(decoded - reference).mean() < 40
        assert decoded[:, : width // 4, 2].mean() > decoded[:, : width // 4, 0].mean()  # left stays blue
        assert decoded[:, -width // 4 :, 0].mean() > decoded[:, -width // 4 :, 2].mean()  # right stays orange
    assert placeholder.lqip.startswith("data:image/webp;base64,")
    assert len(placeholder.lqip) < 1000


@pytest.mark.parametrize("colour", [[200, 30, 40], [12, 140, 90], [250, 250, 250]])
def test_dominant_colour_of_a_solid_image_is_that_colour(colour: list[int]) -> None:
    placeholder = compute(small_from(solid(120, 80, colour).copy(interpretation="srgb")))
    assert placeholder.color == "#{:02x}{:02x}{:02x}".format(*colour)


def _heif_metadata(data: bytes) -> tuple[bytes | None, bytes | None]:
    import pillow_heif

    info = pillow_heif.open_heif(data).info
    return info.get("exif") or None, info.get("xmp") or None


@pytest.mark.parametrize("strip", [True, False])
def test_heic_metadata_is_blanked_losslessly(
    strip: bool, upload: WriteFile, work_dir: Path, big_limits: ImageLimits
) -> None:
    image = fixtures.pillow_photo(120, 80)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">SECRET-PLACE</x:xmpmeta>'
    data = fixtures.encode(image, "HEIF", exif=exif.tobytes(), xmp=xmp, quality=90)
    assert all(_heif_metadata(data))
    prepared = prepare_original(upload(data, "IMG_1.HEIC"), work_dir=work_dir, limits=big_limits, strip_metadata=strip)
    stored = prepared.path.read_bytes()
    assert len(stored) == len(data)  # blanked in place: every offset stays valid
    if not strip:
        assert stored == data
        return
    assert _heif_metadata(stored) == (None, None)
    assert b"SecretCam" not in stored
    assert b"SECRET-PLACE" not in stored
    with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(data)) as uploaded:
        assert np.array_equal(np.asarray(kept.convert("RGB")), np.asarray(uploaded.convert("RGB")))


def test_jxl_container_metadata_boxes_are_dropped(upload: WriteFile, work_dir: Path, big_limits: ImageLimits) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    data = fixtures.encode(fixtures.pillow_photo(64, 48), "JXL", exif=exif.tobytes(), lossless=True)
    assert b"SecretCam" in data
    prepared = prepare_original(upload(data, "a.jxl"), work_dir=work_dir, limits=big_limits, strip_metadata=True)
    stored = prepared.path.read_bytes()
    assert b"SecretCam" not in stored
    with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(data)) as uploaded:
        assert not kept.info.get("exif")
        assert np.array_equal(np.asarray(kept.convert("RGB")), np.asarray(uploaded.convert("RGB")))


@pytest.mark.parametrize("placeholders", [True, False])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_large_jpeg_is_refused_by_the_scaled_check(
    placeholders: bool, keep: float, upload: WriteFile, work_dir: Path, big_limits: ImageLimits
) -> None:
    """The check decodes big JPEGs with DCT scaling (1/8 here): every block is still entropy-decoded."""
    from tests.support.images import make_jpeg, truncated

    data = truncated(make_jpeg(1600, 1200, exif=False), keep=keep)
    with pytest.raises(CorruptImage):
        prepare_original(
            upload(data, "cut.jpg"),
            work_dir=work_dir,
            limits=big_limits,
            strip_metadata=False,
            placeholders=placeholders,
        )


def _ten_bit_ramp(width: int, height: int) -> tuple[bytes, np.ndarray]:
    """A lossless 10-bit HEIC of a grey ramp using all 1024 levels (pillow-heif, x265), and its 16-bit samples."""
    ramp = np.linspace(0, 1023, width).round().astype(np.uint16) << 6
    samples = np.repeat(np.tile(ramp, (height, 1))[..., None], 3, axis=2)
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=samples.tobytes())
    buffer = io.BytesIO()
    heif.save(buffer, quality=-1)
    return buffer.getvalue(), samples


def test_a_10_bit_heic_keeps_its_bits_for_download_and_its_variants_lose_only_8_bit_rounding(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits
) -> None:
    """The evidence for docs/formats.md's choice: variants are 8-bit, the original keeps its 10 bits."""
    data, samples = _ten_bit_ramp(1024, 16)
    prepared = prepare_original(upload(data, "ramp.heic"), work_dir=work_dir, limits=big_limits, strip_metadata=True)
    kept = pillow_heif.open_heif(io.BytesIO(prepared.path.read_bytes()), convert_hdr_to_8bit=False)
    assert (kept.info["bit_depth"], kept.mode) == (10, "RGB;16")
    variant = render(
        prepared.path.read_bytes(),
        options=make_transform(width=1024, format="png", limits=output_limits),
        source_format=prepared.format,
    )
    with Image.open(io.BytesIO(variant.data)) as image:
        assert image.mode == "RGB"  # 8 bits per channel
        pixels = np.asarray(image, dtype=np.float64)
    exact = samples.astype(np.float64) / 65535 * 255
    assert np.abs(pixels - exact).max() <= 1.0  # nothing lost but the rounding to 8 bits
    assert len(np.unique(pixels[..., 0])) == 256  # every 8-bit level: no banding coarser than 8 bits


def test_a_display_p3_heic_is_converted_to_srgb_by_its_profile(
    upload: WriteFile, work_dir: Path, big_limits: ImageLimits, output_limits: OutputLimits
) -> None:
    p3_colour = [200, 90, 40]
    p3 = solid(64, 64, p3_colour).copy(interpretation="srgb")
    profile = bytes(p3.icc_transform("p3", input_profile="srgb").get("icc-profile-data"))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), p3.write_to_memory()).save(buffer, "HEIF", quality=-1, icc_profile=profile)
    prepared = prepare_original(
        upload(buffer.getvalue(), "p3.heic"), work_dir=work_dir, limits=big_limits, strip_metadata=True
    )
    variant = render(
        prepared.path.read_bytes(),
        options=make_transform(width=32, format="png", limits=output_limits),
        source_format=prepared.format,
    )
    with Image.open(io.BytesIO(variant.data)) as image:
        got = np.asarray(image.convert("RGB"), dtype=np.float64)[16, 16]
    # The same P3 numbers converted by LittleCMS (libvips' icc_transform) with the embedded profile:
    tagged = solid(1, 1, p3_colour).copy(interpretation="srgb")
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile)
    expected = np.asarray(list(tagged.icc_transform("srgb", embedded=True)(0, 0)), dtype=np.float64)
    assert np.abs(got - expected).max() <= 3, (got, expected)
    assert np.abs(got - np.asarray(p3_colour)).max() >= 10  # the profile changed the numbers: not ignored
