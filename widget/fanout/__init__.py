"""Real-time fan-out: who listens to which group in this process, and one publish per group
message across processes.

Why not the channel layer: its group_send puts one copy of every message on one queue per member,
and each consumer then takes it off, runs a task and serializes it: per recipient. Here a group
message is serialized once (by `widget.events`), handed to this process's members of the group
in one pass (`Member.push` writes the same text to each socket), and published once to Redis
(`PARLEY_FANOUT=redis`), where every other process subscribed to that group does the same for its
own members. With `PARLEY_FANOUT=local` (a single process, the tests) nothing leaves the process.

Nothing is dropped silently: if Redis cannot be reached, this process closes its sockets with
1011 so their clients reconnect and resume from the database (`since`); a frame this process
cannot publish (its bounded outbox is full, or Redis keeps failing) is logged, and the sockets of
its group on every other worker are closed with 1011 to resume once Redis is back.

The modules, each changing for its own reason:

- `envelope`: the wire format of a group message (what a publish carries, within a process and
  through Redis);
- `transport`: how group messages leave and reach this process (nothing, or Redis pub/sub);
- `members`: the process-local registry of which member socket listens to which group;
- `delivery`: the event-loop task that writes each group message to the group's local members;
- `hub`: the one `hub` of the process that ties them together (join, leave, publish);
- `drain`: what the fan-out does when the worker stops.
"""
