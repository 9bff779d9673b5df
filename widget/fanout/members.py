"""The process-local registry: which member socket of this process listens to which group.

The registry knows nothing of Redis or of delivery; it answers when a group gains its first
local member or loses its last (the hub then subscribes or unsubscribes the group's channel),
and who the members of a group are at the moment a group message is delivered.
"""

from collections import defaultdict
from typing import Protocol


class Member(Protocol):
    """A socket listening to groups (the consumers)."""

    member_id: str

    async def push(self, text: str, message_id: int, frame_type: str) -> None:
        """Write a serialized frame to the socket (must not wait on the network)."""

    async def close_from_server(self, code: int) -> None: ...


class Registry:
    """Group name -> this process's members of it. Used on the event loop only."""

    def __init__(self) -> None:
        self._groups: dict[str, set[Member]] = defaultdict(set)

    def add(self, group: str, member: Member) -> bool:
        """Add the member; True when it is the group's first member in this process."""
        members = self._groups[group]
        members.add(member)
        return len(members) == 1

    def remove(self, group: str, member: Member) -> bool:
        """Remove the member; True when the group has just lost its last member here (False
        also when the member was not in the group)."""
        members = self._groups.get(group)
        if not members or member not in members:
            return False
        members.discard(member)
        if members:
            return False
        del self._groups[group]
        return True

    def __contains__(self, group: str) -> bool:
        """Whether the group has a member in this process."""
        return group in self._groups

    def members_of(self, group: str) -> tuple[Member, ...]:
        """The group's members now (a copy: a member may leave while the others are written)."""
        return tuple(self._groups.get(group, ()))

    def everyone(self) -> set[Member]:
        """Every member of every group, each once."""
        return {member for members in self._groups.values() for member in members}

    def clear(self) -> None:
        self._groups.clear()
