"""Text in a picture read and run through the rules; screenshots of chats and calls; letters."""

from __future__ import annotations

from rules.vision import PhotoContext, analyse_image
from tests.vision.pictures import (
    chat_screenshot,
    encoded,
    group_photo,
    letter_photo,
    poster,
    video_call,
)


def test_a_school_and_a_phone_number_in_a_picture_are_personal_details_with_their_place() -> None:
    card = poster(["Oakfield Primary School", "Call Jo on 07700 900123"], size=36)
    result = analyse_image(encoded(card, "JPEG", quality=85))
    assert "Oakfield Primary School" in result.text
    assert "07700 900123" in result.text
    by_category = {f.category: f for f in result.findings}
    school, phone = by_category["pii.school"], by_category["pii.phone"]
    assert school.rule == "picture-text:pii-school" and school.reason == (
        "text in the image names a school"
    )
    assert phone.reason == "text in the image shows a phone number"
    assert result.text[phone.span[0] : phone.span[1]].endswith("900123")
    # The region is the line the number is on: the second line, below the school's.
    (_, sy, _, sh), (px, py, _, ph) = school.regions[0], phone.regions[0]
    assert py > sy + sh and 20 < px < 80 and 0 < ph < 80
    assert phone.actions.hide and school.severity == "high"
    assert "text in the image names a school" in result.reasons
    assert not result.is_screenshot and not result.is_document


def test_text_in_a_picture_is_judged_as_the_channel_it_was_posted_in() -> None:
    card = encoded(poster(["Call Jo on 07700 900123"], size=36))
    private = analyse_image(card, context=PhotoContext(channel="fb_dm"))
    phone = next(f for f in private.findings if f.category == "pii.phone")
    assert phone.actions.alert == () and not phone.actions.hide  # a detail sent to us in private


def test_a_chat_screenshot_is_recognised_with_its_own_finding() -> None:
    result = analyse_image(encoded(chat_screenshot()))
    assert result.is_screenshot and result.screenshot_of == "chat"
    assert not result.is_document and result.people == 0
    assert "Type a message" in result.text and "Sam Taylor" in result.text
    shot = next(f for f in result.findings if f.category == "photo.screenshot")
    assert shot.reason == "a screenshot of a chat" and shot.rule == "picture-screenshot"
    assert shot.regions == ((0, 0, result.width, result.height),)
    assert shot.actions.draft_private_reply == "photo_private"
    assert result.reasons[0] == "a screenshot of a chat"


def test_a_video_call_screenshot_shows_its_people_and_is_a_screenshot() -> None:
    result = analyse_image(encoded(video_call(), "JPEG", quality=90))
    assert result.screenshot_of == "video call" and result.is_screenshot
    assert result.faces == 4
    assert result.reasons[:2] == ["4 people, faces visible", "a screenshot of a video call"]


def test_a_photographed_letter_is_a_document_and_its_details_are_found() -> None:
    result = analyse_image(encoded(letter_photo(), "JPEG", quality=88))
    assert result.is_document and not result.is_screenshot
    assert "Yours sincerely" in result.text
    categories = {f.category for f in result.findings}
    assert {"photo.document", "pii.council"} <= categories
    assert result.reasons[0] == "a photo of a letter, report or form"


def test_a_photo_of_people_or_a_poster_is_neither_a_screenshot_nor_a_document() -> None:
    for picture in (group_photo(2), poster(["Summer fair", "Saturday 10 till 2"])):
        result = analyse_image(encoded(picture, "JPEG", quality=90))
        assert not result.is_screenshot and not result.is_document
        assert not {"photo.screenshot", "photo.document"} & {f.category for f in result.findings}
