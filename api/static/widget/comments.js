// The comment widget: lists an article's published comments (replies under their parent) and posts
// the form as JSON. Two ways to put it on a page:
// - the one-line embed: <div id="comments" data-article-id="..."></div> and this file as
//   <script src="https://SERVICE/embed.js" async></script>; the script builds the form and the list
//   in that element (replacing a plain-form fallback inside it) and talks to the origin it came from;
// - the HTML of api/templates/widget/comments.html copied into the page, which this script finds by
//   its data-moderation-comments attribute and only brings to life.
// Without this script the form is a plain form post that the API answers with a 303 back to the page.
// Every reader-supplied string goes into the page as text or as a checked http(s) href, never as
// HTML; the script sets no inline style, so a page's strict Content-Security-Policy holds.
(function () {
  "use strict";

  var MAX_PAGES = 20;
  var MESSAGES = {
    published: "Thank you: your comment is published.",
    pending: "Thank you: your comment is awaiting moderation and will appear once a moderator approves it."
  };
  // API field (or form alias) -> the form's field; error slots are #mc-<field>-error.
  var FIELDS = {
    body: "comment", comment: "comment", name: "name", author: "name", email: "email",
    website: "website", url: "website"
  };
  var LABELS = { comment: "comment", name: "name", email: "email", website: "website" };
  // Where this file came from: the service, for the embed. Only known while the script first runs.
  var SCRIPT = document.currentScript;
  var SCRIPT_ORIGIN = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, window.location.href).origin : "";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function attrs(node, values) {
    Object.keys(values).forEach(function (name) { node.setAttribute(name, values[name]); });
    return node;
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function displayTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  // The author's website as an href, only when it is an http(s) URL (the API sends no other kind).
  function websiteHref(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  // What a banned or suspended reader is told: the end date, if any, and the site's own message.
  function refusalText(until, message) {
    var text = until ? "You cannot comment here until " + displayTime(until) + "." : "You can no longer comment here.";
    return message ? text + " " + message : text;
  }

  // This page's address for a plain form post to come back to, without an earlier receipt.
  function pageUrl() {
    var url = new URL(window.location.href);
    ["comment_status", "comment_id", "refused_until", "refused_message"].forEach(function (name) {
      url.searchParams.delete(name);
    });
    url.hash = "";
    return url.href;
  }

  function field(id, label, control, hint) {
    var box = el("div", "mc-field");
    var caption = attrs(el("label", "", label), { for: id });
    var error = el("p", "mc-error");
    error.id = id + "-error";
    error.hidden = true;
    var described = [];
    box.appendChild(caption);
    box.appendChild(control);
    if (hint) {
      var note = el("p", "mc-hint", hint);
      note.id = id + "-hint";
      described.push(note.id);
      box.appendChild(note);
    }
    described.push(error.id);
    box.appendChild(error);
    control.id = id;
    control.setAttribute("aria-describedby", described.join(" "));
    return box;
  }

  function input(name, type, maxLength, autocomplete, required) {
    var node = attrs(el("input"), { name: name, type: type, maxlength: String(maxLength), autocomplete: autocomplete });
    node.required = required;
    return node;
  }

  // The one-line embed: build in `root` what comments.html holds (the same classes and ids).
  function buildEmbed(root, api) {
    var article = root.getAttribute("data-article-id");
    root.replaceChildren();
    root.classList.add("mc");
    root.setAttribute("aria-labelledby", "mc-title");
    var title = el("h2", "", "Comments ");
    title.id = "mc-title";
    title.appendChild(el("span", "mc-count"));
    var status = attrs(el("p", "mc-status"), { role: "status", "aria-live": "polite" });

    var form = attrs(el("form", "mc-form"), { method: "post", action: api + "/v1/comments",
                                              "aria-labelledby": "mc-form-title" });
    var heading = el("h3", "", "Join the discussion");
    heading.id = "mc-form-title";
    form.appendChild(heading);
    form.appendChild(attrs(el("input"), { type: "hidden", name: "article_id", value: article }));
    form.appendChild(attrs(el("input"), { type: "hidden", name: "return_to", value: pageUrl() }));
    var parent = attrs(el("input"), { type: "hidden", name: "parent_id", value: "" });
    parent.disabled = true;
    form.appendChild(parent);
    var replying = el("p", "mc-replying", "Replying to ");
    replying.hidden = true;
    replying.appendChild(el("strong", "mc-replying-name"));
    replying.appendChild(document.createTextNode(" "));
    replying.appendChild(attrs(el("button", "mc-cancel-reply", "Cancel reply"), { type: "button" }));
    form.appendChild(replying);

    var text = attrs(el("textarea"), { name: "comment", rows: "4", maxlength: "5000" });
    text.required = true;
    form.appendChild(field("mc-comment", "Comment", text));
    var row = el("div", "mc-row");
    row.appendChild(field("mc-name", "Name", input("name", "text", 80, "name", true)));
    row.appendChild(field("mc-email", "Email", input("email", "email", 254, "email", true), "Never shown on the site."));
    form.appendChild(row);
    form.appendChild(field("mc-website", "Website (optional)", input("website", "url", 200, "url", false),
                           "Shown as a link on your name."));
    form.appendChild(attrs(el("button", "mc-submit", "Post comment"), { type: "submit" }));
    form.appendChild(el("p", "mc-hint", "Comments are checked before they appear; some wait for a moderator."));

    var list = attrs(el("ol", "mc-list"), { "aria-label": "Published comments" });
    var empty = el("p", "mc-empty", "No comments yet.");
    [title, status, form, list, empty].forEach(function (node) { root.appendChild(node); });
  }

  // The embed's look, from the service, unless the page brings its own (data-styles="none").
  function addStyles(root, api) {
    if (root.getAttribute("data-styles") === "none") return;
    var href = api + "/static/widget/comments.css";
    var present = Array.prototype.some.call(document.querySelectorAll("link[rel=stylesheet]"), function (link) {
      return link.href === new URL(href, window.location.href).href;
    });
    if (!present) document.head.appendChild(attrs(el("link"), { rel: "stylesheet", href: href }));
  }

  function Widget(root, api) {
    this.root = root;
    this.article = root.getAttribute("data-article-id");
    this.api = api.replace(/\/+$/, "");
    this.list = root.querySelector(".mc-list");
    this.empty = root.querySelector(".mc-empty");
    this.count = root.querySelector(".mc-count");
    this.status = root.querySelector(".mc-status");
    this.form = root.querySelector("form.mc-form");
    this.parent = this.form.querySelector("input[name=parent_id]");
    this.replying = this.form.querySelector(".mc-replying");
    this.idempotencyKey = randomKey();
    this.busy = false;
    var self = this;
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.post();
    });
    this.form.querySelector(".mc-cancel-reply").addEventListener("click", function () { self.replyTo(null); });
    this.form.addEventListener("input", function () { self.idempotencyKey = randomKey(); });
    this.showReceiptFromUrl();
    this.load();
  }

  Widget.prototype.say = function (message, kind) {
    this.status.textContent = message;
    this.status.className = "mc-status" + (kind ? " mc-status-" + kind : "");
  };

  // The author's own page for the comment (its status, and why, if it is not published: DSA Art. 17), kept
  // in the status line; the token is the author's alone, so it is never put in this page's address.
  Widget.prototype.follow = function (id, token) {
    if (!id || !token) return;
    var link = document.createElement("a");
    link.className = "mc-follow";
    link.href = this.url("/comments/" + encodeURIComponent(id) + "/status?token=" + encodeURIComponent(token));
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "Follow your comment";
    this.status.appendChild(document.createTextNode(" "));
    this.status.appendChild(link);
  };

  // A plain form post comes back with ?comment_status=...: say what happened to the comment.
  Widget.prototype.showReceiptFromUrl = function () {
    var params = new URLSearchParams(window.location.search);
    var status = params.get("comment_status");
    if (status === "refused") {
      this.say(refusalText(params.get("refused_until"), params.get("refused_message")), "error");
    } else if (status && MESSAGES[status]) {
      this.say(MESSAGES[status], status);
    }
  };

  Widget.prototype.url = function (path) {
    return this.api + path;
  };

  Widget.prototype.load = function (highlightId) {
    var self = this;
    var comments = [];
    var base = "/v1/articles/" + encodeURIComponent(this.article) + "/comments?limit=200";
    function page(cursor, left) {
      var path = base + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      return fetch(self.url(path), { headers: { Accept: "application/json" }, credentials: "omit" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          comments = comments.concat(data.comments || []);
          if (data.next_cursor && left > 1) return page(data.next_cursor, left - 1);
          return comments;
        });
    }
    return page(null, MAX_PAGES)
      .then(function (all) { self.render(all, highlightId); })
      .catch(function () {
        if (!self.list.children.length) self.say("Comments could not be loaded just now.", "error");
      });
  };

  Widget.prototype.render = function (comments, highlightId) {
    var self = this;
    var nodes = {};
    var roots = [];
    comments.forEach(function (c) { nodes[c.id] = { comment: c, replies: [] }; });
    comments.forEach(function (c) {
      var parent = c.parent_id && nodes[c.parent_id];
      (parent ? parent.replies : roots).push(nodes[c.id]);
    });
    function build(node) {
      var c = node.comment;
      var item = el("li", "mc-comment");
      item.id = "comment-" + c.id;
      item.setAttribute("data-id", c.id);
      var card = el("article", "mc-card");
      card.setAttribute("aria-labelledby", "comment-" + c.id + "-by");
      var meta = el("header", "mc-meta");
      // The website is only ever a link on the name, marked as the reader's own and not endorsed.
      var href = websiteHref(c.website);
      var name = href ? attrs(el("a", "mc-name", c.name), { href: href, rel: "nofollow ugc" })
                      : el("span", "mc-name", c.name);
      name.id = "comment-" + c.id + "-by";
      var time = el("time", "", displayTime(c.created_at));
      time.setAttribute("datetime", c.created_at);
      meta.appendChild(name);
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(time);
      card.appendChild(meta);
      card.appendChild(el("p", "mc-body", c.body));
      var reply = el("button", "mc-reply", "Reply");
      reply.type = "button";
      reply.setAttribute("aria-label", "Reply to " + c.name);
      reply.addEventListener("click", function () { self.replyTo(c); });
      card.appendChild(reply);
      item.appendChild(card);
      if (node.replies.length) {
        var replies = el("ol", "mc-replies");
        replies.setAttribute("aria-label", "Replies to " + c.name);
        node.replies.forEach(function (r) { replies.appendChild(build(r)); });
        item.appendChild(replies);
      }
      return item;
    }
    var fresh = document.createDocumentFragment();
    roots.forEach(function (node) { fresh.appendChild(build(node)); });
    this.list.replaceChildren(fresh);
    this.empty.hidden = comments.length > 0;
    if (this.count) this.count.textContent = "(" + comments.length + ")";
    this.root.setAttribute("data-loaded", "true");
    if (highlightId) {
      var mine = document.getElementById("comment-" + highlightId);
      if (mine) {
        mine.classList.add("mc-new");
        mine.scrollIntoView({ block: "nearest" });
      }
    }
  };

  Widget.prototype.replyTo = function (comment) {
    if (comment) {
      this.parent.value = comment.id;
      this.parent.disabled = false;
      this.replying.querySelector(".mc-replying-name").textContent = comment.name;
      this.replying.hidden = false;
      this.form.querySelector("textarea[name=comment]").focus();
    } else {
      this.parent.value = "";
      this.parent.disabled = true;
      this.replying.hidden = true;
    }
  };

  Widget.prototype.clearErrors = function () {
    Array.prototype.forEach.call(this.form.querySelectorAll(".mc-error"), function (p) {
      p.hidden = true;
      p.textContent = "";
    });
    Array.prototype.forEach.call(this.form.querySelectorAll("[aria-invalid]"), function (field) {
      field.removeAttribute("aria-invalid");
    });
  };

  Widget.prototype.showErrors = function (errors) {
    var form = this.form;
    var first = null;
    var general = [];
    (errors || []).forEach(function (error) {
      var name = FIELDS[error.field];
      var field = name && form.querySelector("[name=" + name + "]");
      var slot = field && form.querySelector("#mc-" + name + "-error");
      if (!slot) {
        general.push(error.field + " " + error.detail);
        return;
      }
      slot.textContent = "This " + LABELS[name] + " " + error.detail + ".";
      slot.hidden = false;
      field.setAttribute("aria-invalid", "true");
      first = first || field;
    });
    if (first) first.focus();
    return general;
  };

  Widget.prototype.post = function () {
    if (this.busy) return;
    var self = this;
    var data = new FormData(this.form);
    var payload = {
      article_id: this.article,
      name: String(data.get("name") || ""),
      email: String(data.get("email") || ""),
      body: String(data.get("comment") || "")
    };
    var website = String(data.get("website") || "").trim();
    if (website) payload.website = website;
    if (!this.parent.disabled && this.parent.value) payload.parent_id = this.parent.value;
    var button = this.form.querySelector(".mc-submit");
    this.busy = true;
    button.disabled = true;
    this.clearErrors();
    this.say("Sending your comment…");
    fetch(this.url("/v1/comments"), {
      method: "POST",
      credentials: "omit",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "Idempotency-Key": this.idempotencyKey
      },
      body: JSON.stringify(payload)
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (result) {
        if (result.status === 201 && MESSAGES[result.body.status]) {
          self.say(MESSAGES[result.body.status], result.body.status);
          self.follow(result.body.id, result.body.status_token);
          self.form.querySelector("textarea[name=comment]").value = "";
          self.replyTo(null);
          self.idempotencyKey = randomKey();
          if (result.body.status === "published") self.load(result.body.id);
        } else if (result.status === 422) {
          var rest = self.showErrors(result.body.errors);
          self.say("Please check the form: " + (rest.length ? rest.join("; ") : "see the marked fields."), "error");
        } else if (result.status === 429) {
          self.say("You are posting too fast. Please wait a minute and try again.", "error");
        } else if (result.status === 403 && result.body.type === "author-suspended") {
          self.say(refusalText(result.body.until, result.body.message), "error");
        } else if (result.status === 403) {
          self.say("Comments are closed on this article.", "error");
        } else {
          self.say("Your comment could not be sent just now. Please try again.", "error");
        }
      })
      .catch(function () {
        self.say("Your comment could not be sent: the comment service is unreachable. Please try again.", "error");
      })
      .then(function () {
        self.busy = false;
        button.disabled = false;
      });
  };

  function start(root) {
    if (root.hasAttribute("data-mc-started") || !root.getAttribute("data-article-id")) return;
    root.setAttribute("data-mc-started", "");
    // The copied template names the service in data-api ("" on the same origin); the embed is
    // served by the service, so the script's own origin is the service's unless data-api says else.
    var api = (root.hasAttribute("data-api") ? root.getAttribute("data-api") : SCRIPT_ORIGIN).replace(/\/+$/, "");
    if (!root.querySelector("form.mc-form")) {
      addStyles(root, api);
      buildEmbed(root, api);
    }
    new Widget(root, api); // eslint-disable-line no-new
  }

  function startAll() {
    Array.prototype.forEach.call(
      document.querySelectorAll("[data-moderation-comments], #comments[data-article-id]"), start
    );
  }

  // Loaded async, the script may run before the page's element is parsed.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
