"""`{% rating_stars score %}`: a visitor's 1 to 5 as five stars, filled up to the score."""

from django import template

register = template.Library()


@register.simple_tag
def rating_stars(score: int) -> str:
    score = max(0, min(5, int(score)))
    return "★" * score + "☆" * (5 - score)
