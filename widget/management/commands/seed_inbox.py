"""`manage.py seed_inbox --conversations 5000 --messages 200000 --tenant <slug>`: a tenant's inbox
at scale, for measuring the list and search (docs/PERFORMANCE.md, "The inbox's list").

Visitors and conversations are inserted with bulk_create, messages with PostgreSQL's COPY (about
200,000 a few seconds), spread over the conversations with the latest activity a minute apart;
a third of the conversations have unread visitor messages, a tenth are closed, some snoozed, some
labelled. The tenant is created when it does not exist. Never for production data.
"""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tenants.services import tenant_create
from widget.models import Conversation, Label, Message, Visitor

WORDS = [
    "order",
    "refund",
    "shipping",
    "invoice",
    "password",
    "login",
    "account",
    "price",
    "plan",
    "upgrade",
    "delivery",
    "parcel",
    "tracking",
    "broken",
    "error",
    "page",
    "checkout",
    "card",
    "payment",
    "discount",
    "coupon",
    "size",
    "colour",
    "return",
    "help",
    "thanks",
    "hello",
    "please",
    "question",
    "answer",
    "today",
    "tomorrow",
    "week",
    "address",
    "email",
    "phone",
]


class Command(BaseCommand):
    help = "Seed a tenant's inbox with many conversations and messages (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--conversations", type=int, default=5000)
        parser.add_argument("--messages", type=int, default=200000)
        parser.add_argument("--site-id", type=int, default=1)
        parser.add_argument("--seed", type=int, default=17)

    def handle(self, *args, tenant, conversations, messages, site_id, seed, **options):
        rng = random.Random(seed)
        found = Tenant.objects.filter(slug=tenant).first()
        found = found or tenant_create(name=tenant.title(), slug=tenant)
        with schema_context(found.schema_name), transaction.atomic():
            rooms = self._conversations(rng, conversations, site_id)
            written = self._messages(rng, rooms, messages)
        self.stdout.write(f"{len(rooms)} conversations, {written} messages in {found.schema_name}")

    def _conversations(self, rng, count: int, site_id: int) -> list[Conversation]:
        now = timezone.now()
        visitors = Visitor.objects.bulk_create(
            Visitor(
                site_id=site_id, name=f"{rng.choice(WORDS).title()} {n}", email=f"v{n}@seed.test"
            )
            for n in range(count)
        )
        labels = [
            Label.objects.get_or_create(name=name, defaults={"color": color})[0]
            for name, color in (("billing", "#2563eb"), ("bug", "#dc2626"), ("vip", "#7c3aed"))
        ]
        tag = rng.randrange(1 << 30)
        rooms = Conversation.objects.bulk_create(
            (
                Conversation(
                    room=f"cv_seed{tag}_{n}",
                    site_id=site_id,
                    visitor=visitor,
                    last_message_at=now - timedelta(minutes=count - n),
                    status="closed" if n % 10 == 0 else "open",
                    snoozed_until=now + timedelta(days=1) if n % 50 == 1 else None,
                )
                for n, visitor in enumerate(visitors)
            ),
            batch_size=2000,
        )
        through = Conversation.labels.through
        through.objects.bulk_create(
            (
                through(conversation_id=room.pk, label_id=labels[n % 3].pk)
                for n, room in enumerate(rooms)
                if n % 7 == 0
            ),
            batch_size=5000,
        )
        return rooms

    def _messages(self, rng, rooms: list[Conversation], count: int) -> int:
        per_room = max(1, count // len(rooms))
        table = Message._meta.db_table
        columns = "conversation_id, author_kind, author_id, author_name, text, private, created_at"
        written = 0
        read_marks = []
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for n, room in enumerate(rooms):
                for index in range(per_room):
                    kind = "visitor" if index % 2 == 0 else "agent"
                    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
                    at = room.last_message_at - timedelta(seconds=per_room - index)
                    copy.write_row((room.pk, kind, "", "", text, False, at))
                    written += 1
                if n % 3:
                    read_marks.append(room.pk)
        with connection.cursor() as cursor:
            # Two rooms in three are read up to their newest message: the others count as unread.
            cursor.execute(
                f"UPDATE {Conversation._meta.db_table} c SET agent_read_up_to = "
                f"(SELECT max(id) FROM {table} m WHERE m.conversation_id = c.id) "
                "WHERE c.id = ANY(%s)",
                [read_marks],
            )
            # What the message writer keeps for the rows it writes.
            cursor.execute(
                f"UPDATE {Conversation._meta.db_table} c SET last_visitor_message_id = "
                f"coalesce((SELECT max(id) FROM {table} m WHERE m.conversation_id = c.id "
                "AND m.author_kind = 'visitor'), 0) WHERE c.id = ANY(%s)",
                [[room.pk for room in rooms]],
            )
            cursor.execute(f"ANALYZE {table}; ANALYZE {Conversation._meta.db_table}")
        return written
