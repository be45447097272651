// Writes signed merged-pull-request deliveries for bench/webhook_ingest.lua.
//
// usage: node webhook_bodies.js INDEX_JSON SECRET_FILE OUT_PREFIX FILES PER_FILE
//
// The body is GitHub's own pull_request "closed" example from
// @octokit/webhooks-examples (INDEX_JSON), marked merged as GitHub sends it
// when a pull request is merged, with a distinct merge_commit_sha in every
// body: slipwayd queues a commit once while it waits, so only distinct commits
// make every delivery insert a job. wrk's Lua has no HMAC, so each body is
// signed here (X-Hub-Signature-256 covers the body only) and written as one
// line, "sha256=<hex> <body>", into OUT_PREFIX-<n> for n in 1..FILES (one file
// per wrk thread, so that no two threads send the same commit).
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const [indexJson, secretFile, prefix, files, perFile] = process.argv.slice(2);
if (!perFile) {
  console.error('usage: node webhook_bodies.js INDEX_JSON SECRET_FILE OUT_PREFIX FILES PER_FILE');
  process.exit(2);
}
const secret = fs.readFileSync(secretFile, 'utf8').trim();
const events = JSON.parse(fs.readFileSync(indexJson, 'utf8'));
const closed = events.find((e) => e.name === 'pull_request').examples.find((e) => e.action === 'closed');
if (!closed) throw new Error(indexJson + ' has no pull_request "closed" example');
closed.pull_request.merged = true;

for (let file = 1; file <= Number(files); ++file) {
  const out = fs.openSync(prefix + '-' + file, 'w');
  const lines = [];
  for (let i = 0; i < Number(perFile); ++i) {
    // 40 hex digits, unique per (file, i), stable from run to run.
    closed.pull_request.merge_commit_sha = crypto.createHash('sha1').update(file + ':' + i).digest('hex');
    const body = JSON.stringify(closed);
    const signature = crypto.createHmac('sha256', secret).update(body).digest('hex');
    lines.push('sha256=' + signature + ' ' + body + '\n');
    if (lines.length === 1000) {
      fs.writeSync(out, lines.join(''));
      lines.length = 0;
    }
  }
  fs.writeSync(out, lines.join(''));
  fs.closeSync(out);
}
