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
        """The origin and the envelope of bytes received from Redis on the group's channel."""
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
        return origin.decode(), envelope
