"""Services of a tenant's people: signup (a tenant with its owner), invitations, roles, removal.

Team services run in the tenant's schema (a request on the tenant's host). Refusals are typed
errors (`core.errors`) whose message the dashboard shows as is. A change to what a member may do
is announced (`core.events.member_access_changed`) once it commits, so that the member's open
agent sockets, which were admitted under the old access, close.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import tenant_context

from accounts.avatars import avatar_image
from accounts.models import Role, User
from accounts.roles import assignable_roles, may_manage_member
from accounts.selectors import dashboards_of_email, member_count
from core import events
from core.errors import BadRequest, Forbidden
from tenants.audit import audit_record
from tenants.billing.limits import ensure_can_add_agent
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_slug_problem, tenant_url


def tenant_signup(*, name: str, slug: str, email: str, password: str) -> tuple[Tenant, User]:
    """A new tenant: its schema (migrated), its host `<slug>.<platform host>` and its owner.

    Raises ValidationError naming the field at fault (`slug`, `email`, `password`, `name`). If the
    owner cannot be created, the tenant and its schema are removed again. Returns (tenant, owner).
    """
    name, slug, email = name.strip(), slug.strip().lower(), email.strip().lower()
    problems: dict[str, list[str]] = {}
    if not name:
        problems["name"] = ["Enter your company's name."]
    if slug_problem := tenant_slug_problem(slug):
        problems["slug"] = [slug_problem]
    try:
        validate_email(email)
    except ValidationError as error:
        problems["email"] = error.messages
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as error:
        problems["password"] = error.messages
    if problems:
        raise ValidationError(problems)
    try:
        tenant = tenant_create(name=name, slug=slug)
    except IntegrityError:  # the same slug signed up a moment ago
        taken = f"“{slug}” is already taken. Please choose another."
        raise ValidationError({"slug": [taken]}) from None
    try:
        with tenant_context(tenant):
            owner = User.objects.create_user(email=email, password=password, role=Role.OWNER)
    except BaseException:
        tenant.delete(force_drop=True)
        raise
    return tenant, owner


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Invitation links: like password reset links (they name the user's unusable password, which
    accepting replaces, so a link works once) but signed apart from them. The unusable password
    is random, so drawing a new one (`_invitation_renew`) makes every earlier link stop working.
    A link lasts PASSWORD_RESET_TIMEOUT (Django's setting, shared with password resets)."""

    key_salt = "parley.dashboard.invitation.v1"


invitation_tokens = InvitationTokenGenerator()


@dataclass(frozen=True)
class Invitation:
    """A pending member and their invitation's link. The link is a credential: the dashboard
    shows it only in the response to the invite or resend that made it, and no page shows it
    later (the database keeps no token; a token is derived, and only its inputs are stored)."""

    member: User
    link: str


def invitation_link(*, user: User, dashboard_url: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("invitation_accept", args=[uidb64, invitation_tokens.make_token(user)])
    return dashboard_url.rstrip("/") + path


def invitation_expires_at(member: User) -> datetime | None:
    """When the current link of a pending invitation stops working (None: not pending)."""
    if member.is_active or member.invited_at is None:
        return None
    return member.invited_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def _invitation_renew(member: User, *, inviter: User | None = None) -> None:
    """A new random unusable password and a new date: the links made before no longer check."""
    member.set_unusable_password()
    member.invited_at = timezone.now()
    fields = ["password", "invited_at"]
    if inviter is not None:
        member.invited_by = inviter
        fields.append("invited_by")
    member.save(update_fields=fields)


def _invitation_send(*, tenant: Tenant, sender: User, member: User, dashboard_url: str) -> str:
    link = invitation_link(user=member, dashboard_url=dashboard_url)
    sender_name, email = sender.public_name, member.email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"{sender_name} invited you to {tenant.name} on Parley",
            message=(
                f"{sender_name} invited you to answer {tenant.name}'s visitors on Parley.\n\n"
                f"Choose your password to join:\n{link}\n\n"
                "If you did not expect this invitation, ignore this email.\n"
            ),
            from_email=None,
            recipient_list=[email],
        )
    )
    return link


@transaction.atomic
def member_invite(
    *, tenant: Tenant, inviter: User, email: str, role: str, dashboard_url: str
) -> Invitation:
    """Invite someone by email: an inactive member until they accept and choose a password.

    Inviting the email of a pending invitation sends a fresh link (the earlier one stops working),
    if the inviter may manage that invitation (an admin may not take over an owner's); an active
    member's email is refused. A new invitation takes a seat of the plan's agents (`PlanLimit`
    when none is left).
    """
    email = email.strip().lower()
    if role not in assignable_roles(inviter):
        raise Forbidden("You may not invite someone with this role.")
    member = User.objects.select_for_update().filter(email__iexact=email).first()
    if member is not None and member.is_active:
        raise BadRequest(f"{email} is already a member of the team.")
    if member is not None and not may_manage_member(inviter, member):
        raise Forbidden("Only an owner may change an owner's invitation.")
    if member is None:
        # A new seat: within the plan (the count is taken once the tenant row is locked).
        ensure_can_add_agent(tenant, count_members=lambda: member_count(tenant))
        member = User(email=email, username=email, role=role, is_active=False)
        member.set_unusable_password()
        member.save()
    elif member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    _invitation_renew(member, inviter=inviter)
    audit_record("member.invited", tenant=tenant, target=email, details={"role": role})
    link = _invitation_send(
        tenant=tenant, sender=inviter, member=member, dashboard_url=dashboard_url
    )
    return Invitation(member=member, link=link)


@transaction.atomic
def invitation_resend(
    *, tenant: Tenant, actor: User, member: User, dashboard_url: str
) -> Invitation:
    """Email a pending invitation again with a new link; the earlier link stops working at once.
    Only someone who may manage the member resends (an admin never gets an owner's link)."""
    if not may_manage_member(actor, member):
        raise Forbidden("Only an owner may resend an owner's invitation.")
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.is_active:
        raise BadRequest(f"{member.email} has already joined the team.")
    _invitation_renew(member)
    audit_record(
        "member.invitation_resent", tenant=tenant, target=member.email,
        details={"role": member.role},
    )  # fmt: skip
    link = _invitation_send(tenant=tenant, sender=actor, member=member, dashboard_url=dashboard_url)
    return Invitation(member=member, link=link)


def invitation_accept(*, member: User, password: str, display_name: str = "") -> User:
    """Activate an invited member with the password they chose (validated by the caller's form)."""
    member.set_password(password)
    member.is_active = True
    if display_name:
        member.display_name = display_name
    member.save()
    return member


def _owners_left_without(member: User) -> int:
    return User.objects.filter(role=Role.OWNER, is_active=True).exclude(pk=member.pk).count()


def member_access_changed(*, tenant: Tenant, user_id: int) -> None:
    """Announce, after the commit, that what a member may do changed: a change of role or a
    removal (below), a sign-out (`accounts.receivers`), a new password (the dashboard's reset)."""
    events.send_after_commit(events.member_access_changed, tenant_id=tenant.pk, user_id=user_id)


@transaction.atomic
def member_change_role(*, tenant: Tenant, actor: User, member: User, role: str) -> User:
    if not may_manage_member(actor, member) or role not in assignable_roles(actor):
        raise Forbidden("Only an owner may change an owner's role or make someone an owner.")
    # Lock the owners so that two owners demoting each other at once cannot leave none.
    list(User.objects.select_for_update().filter(role=Role.OWNER))
    if member.role == Role.OWNER and role != Role.OWNER and not _owners_left_without(member):
        raise BadRequest("The team needs at least one owner: make someone else owner first.")
    if member.role != role:
        audit_record(
            "member.role_changed", tenant=tenant, target=member.email,
            details={"from": member.role, "to": role},
        )  # fmt: skip
        member.role = role
        member.save(update_fields=["role"])
        member_access_changed(tenant=tenant, user_id=member.pk)
    return member


@transaction.atomic
def member_remove(*, tenant: Tenant, actor: User, member: User) -> None:
    """Remove a member (or a pending invitation). Their messages keep their name."""
    if member.pk == actor.pk:
        raise BadRequest("You cannot remove yourself; another owner or admin can.")
    if not may_manage_member(actor, member):
        raise Forbidden("Only an owner may remove an owner.")
    list(User.objects.select_for_update().filter(role=Role.OWNER))
    if member.role == Role.OWNER and not _owners_left_without(member):
        raise BadRequest("The team needs at least one owner: the last owner cannot be removed.")
    user_id = member.pk
    audit_record(
        "member.removed", tenant=tenant, target=member.email, details={"role": member.role}
    )
    member.delete()
    member_access_changed(tenant=tenant, user_id=user_id)


def dashboards_send(*, email: str) -> None:
    """Email `email` the addresses of the dashboards it can sign in to (nothing when none: the
    page that asks says the same either way, so it tells no one who has an account)."""
    tenants = dashboards_of_email(email)
    if not tenants:
        return
    lines = "\n".join(f"- {tenant.name}: {tenant_url(tenant)}/login/" for tenant in tenants)
    send_mail(
        subject="Your Parley dashboards",
        message=(
            f"You asked where to sign in to Parley. {email} is a member of:\n\n{lines}\n\n"
            "If it was not you, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[email],
    )


# --- The member's own profile -----------------------------------------------------------------


def member_profile_update(
    *,
    tenant: Tenant,
    member: User,
    display_name: str,
    time_zone: str,
    notify_sound: bool,
    notify_desktop: bool,
    notify_unanswered_minutes: int | None,
) -> User:
    """Save what a member says of themself. A new name reaches their open agent sockets: each
    socket speaks with the name it was admitted under, so they are told to reconnect."""
    before = member.public_name
    member.display_name = display_name
    member.time_zone = time_zone
    member.notify_sound = notify_sound
    member.notify_desktop = notify_desktop
    member.notify_unanswered_minutes = notify_unanswered_minutes
    member.save(
        update_fields=[
            "display_name",
            "time_zone",
            "notify_sound",
            "notify_desktop",
            "notify_unanswered_minutes",
        ]
    )
    if member.public_name != before:
        member_access_changed(tenant=tenant, user_id=member.pk)
    return member


def member_unanswered_emails_stop(*, member_id: int) -> bool:
    """Stop the unanswered-conversation emails to a member (their unsubscribe link): the same
    as choosing "never" on their profile. False when there is no such member."""
    return bool(User.objects.filter(pk=member_id).update(notify_unanswered_minutes=None))


def member_avatar_set(*, tenant: Tenant, member: User, upload) -> User:
    """Give a member a picture made from an upload (`accounts.avatars.avatar_image` checks and
    re-encodes it; BadRequest when it is not a usable image). The previous one is deleted."""
    picture = avatar_image(upload, schema_name=tenant.schema_name)
    previous = member.avatar.name if member.avatar else ""
    member.avatar.save(picture.name, picture, save=False)
    member.save(update_fields=["avatar"])
    if previous:
        transaction.on_commit(lambda: member.avatar.storage.delete(previous))
    return member


def member_avatar_remove(*, member: User) -> User:
    """Back to initials: the picture is deleted from storage once the change commits."""
    if not member.avatar:
        return member
    previous, storage = member.avatar.name, member.avatar.storage
    member.avatar = ""
    member.save(update_fields=["avatar"])
    transaction.on_commit(lambda: storage.delete(previous))
    return member


def member_password_change(*, tenant: Tenant, member: User, password: str) -> User:
    """Set a new password the caller's form checked (the old one and the validators). Django
    then refuses the member's other sessions; their open sockets are told to close."""
    member.set_password(password)
    member.save(update_fields=["password"])
    member_access_changed(tenant=tenant, user_id=member.pk)
    return member


def member_take_turn(*, candidate_ids: set[int]) -> User | None:
    """Round-robin: of the active members among `candidate_ids` (the connected agents) who are
    not away, the one
    given a conversation longest ago (never first, then by id), now marked as given one.

    Inside the caller's transaction. Two conversations starting at once on two workers take
    different members: the row taken is locked until the transaction ends and the other skips
    it (SKIP LOCKED), falling back to a locked one only when every candidate is taken.
    """
    if not candidate_ids:
        return None
    candidates = User.objects.filter(pk__in=candidate_ids, is_active=True, away=False).order_by(
        models.F("last_assigned_at").asc(nulls_first=True), "pk"
    )
    member = candidates.select_for_update(skip_locked=True).first()
    if member is None:
        member = candidates.select_for_update().first()
    if member is None:
        return None
    member.last_assigned_at = timezone.now()
    member.save(update_fields=["last_assigned_at"])
    return member


@transaction.atomic
def member_away_set(*, tenant: Tenant, member: User, away: bool) -> User:
    """Switch the member's "Away" on or off. Away, an agent with the dashboard open counts as
    away for the visitors (and round-robin passes them by); the change is announced after the
    commit so the widgets of the tenant's sites follow it live."""
    if member.away != away:
        member.away = away
        member.save(update_fields=["away"])
        events.send_after_commit(
            events.member_presence_changed, tenant_id=tenant.pk, user_id=member.pk
        )
    return member
