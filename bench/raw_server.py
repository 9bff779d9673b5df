"""The `raw` target of `make bench`: how fast Python can move these frames at all.

A bare `websockets` server speaking the seed tutorial app's protocol (`ws/chat/<room>/`, frames
`{"message": ...}` in and out): it joins a socket to its room by path and broadcasts every frame
it receives to the room, sender included. No origin or token check, nothing stored, no
cross-process fan-out: the floor under any Python chat server on this machine, and the bar that
Parley's ratios in the table are measured against.

    python bench/raw_server.py PORT
"""

import asyncio
import json
import sys
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)


def room_of(path: str) -> str | None:
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) == 3 and parts[:2] == ["ws", "chat"] and parts[2]:
        return parts[2]
    return None


async def chat(connection: ServerConnection) -> None:
    room = room_of(connection.request.path)
    if room is None:
        await connection.close(4404, "no such room")
        return
    members = rooms[room]
    members.add(connection)
    try:
        async for frame in connection:
            message = json.loads(frame)["message"]
            broadcast(members, json.dumps({"message": message}))
    finally:
        members.discard(connection)
        if not members:
            rooms.pop(room, None)


async def main(port: int) -> None:
    # As the load generator's clients: no compression, no keep-alive pings, no queue limit.
    async with serve(
        chat, "127.0.0.1", port, compression=None, ping_interval=None, max_queue=None
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
