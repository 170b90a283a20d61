// Sends one external moderation request the way Coral's server does, for tests/test_coral.py. Transcribed from
// coralproject/talk (server/src/core/server/...):
// - services/comments/pipeline/phases/external.ts, processPhase: the request object and its key order; the body is
//   the HTML or the stripped text per the phase's format; parentID null for a top-level comment. `shape: "first"`
//   is Coral's first release (tenant as {id, domain} first), otherwise the current one (tenantID, tenantDomain last).
// - services/fetch/fetch.ts: generateFetchOptions (JSON.stringify(data, null, 2), Content-Type, X-Coral-Signature)
//   and createFetch (User-Agent "Coral Moderation/<version>", redirect "manual", aborted after the phase's timeout).
// - models/settings/signingSecret/signingSecret.ts: generateSignatures, one sha256=<hex> per active secret.
// Reads {url, secrets, timeout, format, shape, action, comment: {html, text, parentID}, author, story, tenant} as
// JSON on standard input; writes {status, ok, text, body, signature, elapsedMs} or {error} as JSON.
import crypto from "node:crypto";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

function generateSignature(key, data) {
  return crypto.createHmac("sha256", key).update(data).digest().toString("hex");
}

function generateSignatures(secrets, data) {
  return secrets
    .map((secret) => generateSignature(secret, data))
    .map((signature) => `sha256=${signature}`)
    .join(",");
}

const { action, comment, author, story, tenant } = input;
const commentBody = input.format === "HTML" ? comment.html : comment.text;
const request =
  input.shape === "first"
    ? {
        tenant: { id: tenant.id, domain: tenant.domain },
        action,
        comment: { body: commentBody, parentID: comment.parentID || null },
        author: { id: author.id, role: author.role },
        story: { id: story.id, url: story.url },
        site: { id: story.siteID },
      }
    : {
        action,
        comment: { body: commentBody, parentID: comment.parentID || null },
        author: { id: author.id, role: author.role },
        story: { id: story.id, url: story.url },
        site: { id: story.siteID },
        tenantID: tenant.id,
        tenantDomain: tenant.domain,
      };

const body = JSON.stringify(request, null, 2);
const signature = generateSignatures(input.secrets, body);
const controller = new AbortController();
const timer = setTimeout(() => controller.abort(), input.timeout);
const started = performance.now();
try {
  const res = await fetch(input.url, {
    headers: {
      "User-Agent": "Coral Moderation/9.0.0",
      "Content-Type": "application/json",
      "X-Coral-Signature": signature,
    },
    redirect: "manual",
    signal: controller.signal,
    method: "POST",
    body,
  });
  const text = await res.text();
  const elapsedMs = performance.now() - started;
  process.stdout.write(JSON.stringify({ status: res.status, ok: res.ok, text, body, signature, elapsedMs }));
} catch (err) {
  process.stdout.write(JSON.stringify({ error: err.name, message: String(err.message), body, signature }));
} finally {
  clearTimeout(timer);
}
