"""widget.frames: the agent socket's copy of a message draws its author as the dashboard does."""

from datetime import UTC, datetime

from widget import frames

AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


def test_the_agents_copy_carries_the_authors_initials_and_colour():
    stored = frames.message(7, "c-7", "Hello", AT, "visitor", "v-1", "Greta Lindqvist")
    copy = frames.for_agents(stored, "cv_greta")
    assert copy["conversation"] == "cv_greta"
    assert copy["author"] == {
        "kind": "visitor",
        "id": "v-1",
        "name": "Greta Lindqvist",
        "avatar": {"initials": "GL", "color": 1},
    }
    assert "avatar" not in stored["author"]  # the room's copy is left as it was


def test_an_author_without_a_name_is_drawn_under_its_kind():
    for kind, initials in (("visitor", "V"), ("agent", "A"), ("system", "S")):
        stored = frames.message(1, None, "Hi", AT, kind, "", "")
        assert frames.with_avatar(stored)["author"]["avatar"]["initials"] == initials
