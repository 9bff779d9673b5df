// Pictures beside the messages that arrive live, drawn as the server draws them at page load
// (templatetags/people.py and _avatar.html): the member's picture for an agent with one, else
// initials on a colour. The server computes those (accounts.avatars.initials_avatar), never the
// page: a message frame of the agent socket carries its author's (inbox.js keeps them on the
// message as data-avatar-*), and the team directory each member's, for the member's own message
// on its way, before the server has sent it back.
"use strict";

(() => {
  const list = document.getElementById("messages");
  const directoryScript = document.getElementById("team-directory");
  if (!list) return;
  const team = directoryScript ? JSON.parse(directoryScript.textContent) : {};

  function avatarFor(item) {
    const member = item.classList.contains("author-agent") ? team[item.dataset.authorId || ""] : null;
    if (member && member.avatar) {
      const image = document.createElement("img");
      image.className = "avatar";
      image.src = member.avatar;
      image.alt = "";
      image.width = 32;
      image.height = 32;
      return image;
    }
    const drawn = item.dataset.avatarInitials
      ? { initials: item.dataset.avatarInitials, color: item.dataset.avatarColor }
      : member;
    if (!drawn) return null;
    const badge = document.createElement("span");
    badge.className = `avatar avatar-c${Number(drawn.color) || 0}`;
    badge.setAttribute("aria-hidden", "true");
    badge.textContent = drawn.initials;
    return badge;
  }

  function decorate(item) {
    if (!(item instanceof HTMLElement) || !item.classList.contains("message")) return;
    if (item.querySelector(":scope > .avatar")) return;
    const avatar = avatarFor(item);
    if (avatar) item.prepend(avatar);
  }

  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(decorate);
  }).observe(list, { childList: true });
})();
