"""The wire format of a group message: what one publish carries, through this process's delivery
queue and, encoded, through Redis to every other process.

A frame is serialized once by its publisher (`widget.events`); the envelope carries that text
with what the delivery needs without parsing it again: whom to skip, the stored message's id
(so a socket does not send again what its `ready` carried) and the frame's type (metrics).
"""

import dataclasses
import time

FRAME = b"f"
CLOSE = b"c"


class UndecodableEnvelope(ValueError):
    """Bytes on a group's channel that are not an envelope (garbage, or cut short)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """One group message: a serialized frame for every member, or an order to close them."""

    group: str
    kind: bytes
    body: str
    exclude: str = ""  # a member id that does not receive it ("to the other members")
    message_id: int = 0  # the stored message it carries, if any (deduplication on resume)
    frame_type: str = ""  # the frame's `type` (metrics)
    # When it was published (wall clock, so comparable across processes): parley_fanout_seconds.
    published_at: float = dataclasses.field(default_factory=time.time)

    def encode(self, origin: str) -> bytes:
        """The bytes published to Redis; `origin` names the publishing process, which skips its
        own publications when they come back (it delivered them to its members already)."""
        header = b"|".join(
            [
                origin.encode(),
                self.kind,
                self.exclude.encode(),
                str(self.message_id).encode(),
                self.frame_type.encode(),
                repr(self.published_at).encode(),
            ]
        )
        return header + b"|" + self.body.encode()

    @classmethod
    def decode(cls, group: str, data: bytes) -> tuple[str, "Envelope"]:
        """The origin and the envelope of bytes received from Redis on the group's channel.

        Raises UndecodableEnvelope for anything this process would not have published: too few
        fields, a field that does not parse, a kind that is neither, a frame that is not a JSON
        object (cut short: it lost its closing brace) or a close that names no close code. The
        checks are cheap on purpose (the frame is not parsed again): they keep a stray publish
        from reaching a socket, they do not authenticate the publisher."""
        try:
            origin, kind, exclude, message_id, frame_type, published_at, body = data.split(b"|", 6)
            envelope = cls(
                group,
                kind,
                body.decode(),
                exclude.decode(),
                int(message_id),
                frame_type.decode(),
                float(published_at),
            )
            origin_name = origin.decode()
        except ValueError as error:  # UnicodeDecodeError included
            raise UndecodableEnvelope(str(error)) from None
        if kind == FRAME:
            if not (body.startswith(b"{") and body.endswith(b"}")):
                raise UndecodableEnvelope("the frame is not a JSON object")
        elif kind == CLOSE:
            if not (body.isdigit() and 1000 <= int(body) <= 4999):
                raise UndecodableEnvelope("the close names no close code")
        else:
            raise UndecodableEnvelope(f"unknown kind {kind[:8]!r}")
        return origin_name, envelope
