"""People and faces in sample photographs; the perceptual hash; what only the file carries."""

from __future__ import annotations

import pytest
from PIL import Image

from rules import load_ruleset
from rules.vision import (
    ImageRefused,
    PhotoContext,
    analyse_image,
    hash_distance,
    perceptual_hash,
    read_picture,
)
from tests.vision.pictures import encoded, group_photo, poster, sample, with_gps


def test_a_portrait_has_one_person_with_a_visible_face_and_a_family_photo_finding() -> None:
    result = analyse_image(encoded(sample("astronaut.png")))
    assert (result.people, result.faces) == (1, 1)
    assert 0.02 < result.largest_face_share < 0.06  # a head and shoulders, not a close-up
    assert [f.category for f in result.findings] == ["photo.family"]
    finding = result.findings[0]
    assert finding.reason == "1 person, face visible"
    assert finding.rule == "picture-people" and finding.severity == "high"
    assert finding.actions.hide and finding.actions.draft_private_reply == "photo"
    x, y, w, h = finding.regions[0]
    assert 150 < x < 220 and 40 < y < 110 and 70 < w < 120  # the astronaut's face
    assert result.reasons == ["1 person, face visible"]


def test_three_people_side_by_side_are_counted_with_their_faces() -> None:
    result = analyse_image(encoded(group_photo(3)))
    assert (result.people, result.faces) == (3, 3)
    assert result.reasons == ["3 people, faces visible"]
    assert len(result.findings[0].regions) == 3


def test_a_face_in_profile_is_found_and_a_picture_without_people_raises_nothing() -> None:
    cameraman = analyse_image(encoded(sample("camera.png")))
    assert cameraman.people == 1 and cameraman.faces == 1
    for name in ("coffee.png", "chelsea.png", "rocket.jpg"):
        empty = analyse_image(encoded(sample(name)))
        assert (empty.people, empty.findings, empty.reasons) == (0, [], []), name


def test_words_about_a_child_make_the_people_in_it_a_child_photo() -> None:
    context = PhotoContext(caption="First day at school for my little one!")
    result = analyse_image(encoded(sample("astronaut.png")), context=context)
    assert [f.category for f in result.findings] == ["photo.child"]
    neutral = PhotoContext(caption="Lovely afternoon at the summer fair")
    assert analyse_image(encoded(sample("astronaut.png")), context=neutral).findings[
        0
    ].category == ("photo.family")


def test_a_small_face_far_off_is_flagged_only_where_the_page_allows_no_photos_of_people() -> None:
    crowd = sample("coffee.png").resize((1600, 1200))
    crowd.paste(sample("astronaut.png").resize((260, 260)), (900, 500))
    data = encoded(crowd)
    allowed = analyse_image(data)
    assert allowed.faces == 1 and allowed.largest_face_share < 0.002
    assert allowed.findings == []
    strict = analyse_image(data, context=PhotoContext(no_family_photos=True))
    assert [f.category for f in strict.findings] == ["photo.family"]
    assert strict.reasons == ["1 person, face visible; this page posts no photos of people"]


def test_the_page_own_photo_is_reviewed_not_hidden() -> None:
    context = PhotoContext(channel="fb_post", from_page=True)
    finding = analyse_image(encoded(sample("astronaut.png")), context=context).findings[0]
    assert finding.category == "photo.family" and finding.severity == "low"
    assert not finding.actions.hide and finding.actions.alert == ("moderator",)


def test_a_config_override_of_the_category_reaches_picture_findings() -> None:
    from rules import RulesConfig

    ruleset = load_ruleset(RulesConfig(actions={"photo.family": {"hide": False}}))
    finding = analyse_image(encoded(sample("astronaut.png")), ruleset=ruleset).findings[0]
    assert finding.category == "photo.family" and finding.actions.hide is False


def test_gps_and_the_time_taken_are_read_from_exif() -> None:
    data = with_gps(sample("coffee.png"), (52.0, 37.0, 30.0), (1.0, 17.0, 45.0))
    picture = read_picture(data)
    assert picture.gps == (52.625, -1.295833)
    assert picture.taken_at == "2026-06-01 14:03:00"
    result = analyse_image(data)
    assert result.exif_gps == (52.625, -1.295833)
    assert result.reasons == ["the file carries the place it was taken"]
    assert read_picture(encoded(sample("coffee.png"))).gps is None


def test_the_hash_survives_re_encoding_and_resizing_but_not_another_photo() -> None:
    original = sample("astronaut.png")
    first = perceptual_hash(encoded(original))
    assert len(first) == 16 and int(first, 16) >= 0
    smaller = original.resize((300, 300))
    again = perceptual_hash(encoded(smaller, "JPEG", quality=70))
    assert hash_distance(first, again) <= 6
    other = perceptual_hash(encoded(sample("camera.png")))
    assert hash_distance(first, other) >= 20
    assert hash_distance(first, first.upper()) == 0
    with pytest.raises(ValueError):
        hash_distance(first, "not a hash")


def test_bytes_that_are_not_a_picture_or_too_many_pixels_are_refused() -> None:
    with pytest.raises(ImageRefused, match="not a picture"):
        analyse_image(b"<html>not an image</html>")
    with pytest.raises(ImageRefused, match="not a picture"):
        perceptual_hash(encoded(poster(["hello"]))[:200])  # a truncated PNG
    with pytest.raises(ImageRefused, match="too large"):
        analyse_image(encoded(sample("coffee.png")), max_pixels=1000)


def test_a_picture_looked_at_lately_is_remembered_but_its_limit_still_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rules.vision import analysis

    decoded: list[int] = []

    def counted(data: bytes, **kwargs: object) -> object:
        decoded.append(len(data))
        return read_picture(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis, "read_picture", counted)
    coffee = encoded(sample("coffee.png").resize((300, 200)))
    first = analyse_image(coffee)
    assert analyse_image(coffee, context=PhotoContext(no_family_photos=True)) == first
    assert decoded == [len(coffee)]  # looked at once; the second answer came from memory
    # Remembering the pixels never lets a picture past a smaller limit than it was seen under.
    with pytest.raises(ImageRefused, match="too large"):
        analyse_image(coffee, max_pixels=1000)
    for n in range(analysis.SEEN_KEPT + 2):  # small plain squares: quick to look at
        analyse_image(encoded(Image.new("RGB", (48, 48), (20 * n, 90, 160))))
    assert len(analysis._seen_lately) == analysis.SEEN_KEPT
