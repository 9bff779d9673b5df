// Pictures beside the messages that arrive live, drawn as the server draws them at page load
// (templatetags/people.py and _avatar.html): the member's picture for an agent with one, else
// the initials of the author's name on that name's colour.
"use strict";

(() => {
  const list = document.getElementById("messages");
  const directoryScript = document.getElementById("team-directory");
  if (!list) return;
  const team = directoryScript ? JSON.parse(directoryScript.textContent) : {};
  const COLORS = 8; // accounts.avatars.AVATAR_COLORS

  function initials(name) {
    const words = name.replace(/[._]/g, " ").split(/\s+/).filter(Boolean);
    const letters = words.slice(0, 2).map((word) => Array.from(word)[0]).join("").toUpperCase();
    return letters || "?";
  }

  function colorOf(name) {
    // accounts.avatars.avatar_color: the sum of the name's code points.
    let sum = 0;
    for (const character of name) sum += character.codePointAt(0);
    return sum % COLORS;
  }

  function avatarFor(item) {
    const name = (item.querySelector(".author") || {}).textContent || "";
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
    const badge = document.createElement("span");
    badge.className = `avatar avatar-c${colorOf(name)}`;
    badge.setAttribute("aria-hidden", "true");
    badge.textContent = initials(name);
    return badge;
  }

  function decorate(item) {
    if (!(item instanceof HTMLElement) || !item.classList.contains("message")) return;
    if (item.querySelector(":scope > .avatar")) return;
    item.prepend(avatarFor(item));
  }

  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(decorate);
  }).observe(list, { childList: true });
})();
