import orjson
import pytest

from core.errors import BadRequest
from core.text import refuse_unstorable


@pytest.mark.parametrize(
    "raw",
    [
        '{"text": "a\\u0000b"}',
        '{"a\\u0000": 1}',
        '{"list": [1, {"deep": ["\\u0000"]}]}',
    ],
)
def test_nul_anywhere_is_refused(raw):
    with pytest.raises(BadRequest, match="NUL"):
        refuse_unstorable(raw, orjson.loads(raw))
    with pytest.raises(BadRequest):
        refuse_unstorable(raw.encode(), orjson.loads(raw))


@pytest.mark.parametrize(
    "raw",
    [
        '{"text": "plain"}',
        # An escaped backslash followed by "u0000": six ordinary characters, not NUL.
        '{"text": "\\\\u0000"}',
    ],
)
def test_storable_text_passes(raw):
    refuse_unstorable(raw, orjson.loads(raw))
