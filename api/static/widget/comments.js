// The comment widget: lists an article's published comments (replies under their parent) and posts
// the form as JSON. Without this script the same form is a plain form post that the API answers
// with a 303 back to the page. Every reader-supplied string goes into the page as text, never HTML.
(function () {
  "use strict";

  var MAX_PAGES = 20;
  var MESSAGES = {
    published: "Thank you: your comment is published.",
    pending: "Thank you: your comment is awaiting moderation and will appear once a moderator approves it."
  };
  var FIELDS = { body: "comment", comment: "comment", name: "name", email: "email" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
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

  function Widget(root) {
    this.root = root;
    this.article = root.getAttribute("data-article-id");
    this.api = (root.getAttribute("data-api") || "").replace(/\/+$/, "");
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

  // A plain form post comes back with ?comment_status=...: say what happened to the comment.
  Widget.prototype.showReceiptFromUrl = function () {
    var params = new URLSearchParams(window.location.search);
    var status = params.get("comment_status");
    if (status && MESSAGES[status]) this.say(MESSAGES[status], status);
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
      var name = el("span", "mc-name", c.name);
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
      slot.textContent = "This " + (name === "comment" ? "comment" : name) + " " + error.detail + ".";
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
          self.form.querySelector("textarea[name=comment]").value = "";
          self.replyTo(null);
          self.idempotencyKey = randomKey();
          if (result.body.status === "published") self.load(result.body.id);
        } else if (result.status === 422) {
          var rest = self.showErrors(result.body.errors);
          self.say("Please check the form: " + (rest.length ? rest.join("; ") : "see the marked fields."), "error");
        } else if (result.status === 429) {
          self.say("You are posting too fast. Please wait a minute and try again.", "error");
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

  Array.prototype.forEach.call(document.querySelectorAll("[data-moderation-comments]"), function (root) {
    new Widget(root); // eslint-disable-line no-new
  });
})();
