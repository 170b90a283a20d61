// Keyboard for the moderation console. Every action is a plain form that works without this file:
// j/k move, a approves, r rejects (then 1-5 picks the reason), x selects, o opens the history, u the author's
// page, b the confirmation of "ban the author and reject all their pending comments" (admins), ? helps.
(function () {
  "use strict";

  var items = Array.prototype.slice.call(document.querySelectorAll("article.item"));
  var help = document.getElementById("keys-help");
  var helpOpen = document.getElementById("keys-help-open");
  var helpClose = document.getElementById("keys-help-close");
  var banAuthor = document.getElementById("ban-author");
  var current = -1;
  var busy = false;

  function submit(form) {
    if (!form || busy) return;
    busy = true;
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }

  function rejectParts(item) {
    return {
      select: item.querySelector("select.reject-reason"),
      hint: item.querySelector(".reject-hint"),
      form: item.querySelector("form.reject-form")
    };
  }

  function cancelReject(item) {
    if (!item || !item.classList.contains("rejecting")) return;
    item.classList.remove("rejecting");
    var parts = rejectParts(item);
    if (parts.hint) parts.hint.hidden = true;
  }

  function setCurrent(index, focus) {
    if (!items.length) return;
    index = Math.max(0, Math.min(items.length - 1, index));
    if (current >= 0 && items[current]) {
      items[current].classList.remove("current");
      items[current].removeAttribute("aria-current");
      cancelReject(items[current]);
    }
    current = index;
    var item = items[current];
    item.classList.add("current");
    item.setAttribute("aria-current", "true");
    if (focus) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function go(item, attribute) {
    var target = item ? item.getAttribute(attribute) : null;
    if (target) window.location.assign(target);
  }

  function currentItem() {
    return current >= 0 ? items[current] : null;
  }

  function startReject(item) {
    var parts = rejectParts(item);
    if (!parts.select) return;
    item.classList.add("rejecting");
    if (parts.hint) parts.hint.hidden = false;
    parts.select.focus();
  }

  function toggleHelp() {
    if (!help || typeof help.showModal !== "function") return;
    if (help.open) help.close();
    else help.showModal();
  }

  function typingIn(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    if (tag !== "input") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) < 0;
  }

  // While rejecting: digits choose the reason and reject, Enter rejects, Escape cancels.
  function onRejectKey(event, item) {
    var parts = rejectParts(item);
    var digit = /^[1-9]$/.test(event.key) ? parseInt(event.key, 10) : 0;
    if (digit && digit <= parts.select.options.length) {
      event.preventDefault();
      parts.select.selectedIndex = digit - 1;
      submit(parts.form);
    } else if (event.key === "Enter") {
      event.preventDefault();
      submit(parts.form);
    } else if (event.key === "Escape") {
      event.preventDefault();
      cancelReject(item);
      item.focus({ preventScroll: true });
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    var rejecting = target && target.closest ? target.closest("article.item.rejecting") : null;
    if (rejecting && target.classList.contains("reject-reason")) {
      onRejectKey(event, rejecting);
      return;
    }
    if (help && help.open) {
      if (event.key === "?") {
        event.preventDefault();
        help.close();
      }
      return;
    }
    if (typingIn(target)) return;
    var item = currentItem();
    switch (event.key) {
      case "j":
        setCurrent(current + 1, true);
        break;
      case "k":
        setCurrent(current < 0 ? 0 : current - 1, true);
        break;
      case "a":
        if (item) submit(item.querySelector("form.approve-form"));
        break;
      case "r":
        if (item) startReject(item);
        break;
      case "x":
        if (item) {
          var box = item.querySelector("input.select");
          if (box) box.checked = !box.checked;
        }
        break;
      case "o":
        go(item, "data-history");
        break;
      case "u":
        go(item, "data-author");
        break;
      case "b":
        // A page asks to confirm: never a dialog, and nothing changes until its button is pressed.
        if (item) go(item, "data-ban");
        else if (banAuthor) window.location.assign(banAuthor.href);
        break;
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  items.forEach(function (item, index) {
    item.addEventListener("click", function () {
      if (current !== index) setCurrent(index, false);
    });
  });

  if (help && typeof help.showModal === "function") {
    if (helpOpen) {
      helpOpen.hidden = false;
      helpOpen.addEventListener("click", toggleHelp);
    }
    if (helpClose) helpClose.addEventListener("click", function () { help.close(); });
    Array.prototype.forEach.call(document.querySelectorAll(".keys-hint"), function (hint) { hint.hidden = false; });
  }

  // After a decision the page comes back at #c-<next comment>: carry on from there.
  var match = /^#c-([0-9A-Z]{26})$/.exec(window.location.hash);
  if (match) {
    for (var i = 0; i < items.length; i++) {
      if (items[i].getAttribute("data-id") === match[1]) {
        setCurrent(i, true);
        break;
      }
    }
  }
  window.addEventListener("pageshow", function () { busy = false; });
})();
