// A real OpenID provider for the tests and the dev stack (issue 17): npm's
// oidc-provider (OpenID Certified), pinned by package-lock.json.
//
//   node config/oidc/provider.mjs --config FILE --port N [--host 127.0.0.1] [--pid-file F]
//
// FILE (JSON): {"clients": [oidc-provider client metadata...],
//               "users": [{"login", "password", "claims": {"sub", "email", ...}}],
//               "claims_scopes": {"roles": ["roles"], ...} (optional),
//               "id_token_ttl": seconds (optional)}
// The users are read again at every sign-in and claims request, so a test can
// change a user's claims between two logins. The issuer is http://HOST:PORT.
// Sign-in: a plain login form checking the user's password (no consent screen:
// the portal is a first-party client). Prints "ready <issuer>" when listening.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'pid-file': { type: 'string' },
  },
});
if (!args.config || !args.port) {
  console.error('usage: provider.mjs --config FILE --port N [--host H] [--pid-file F]');
  process.exit(2);
}

const load = () => JSON.parse(readFileSync(args.config, 'utf8'));
const settings = load();
const issuer = `http://${args.host}:${args.port}`;
const users = () => load().users || [];
const bySub = (sub) => users().find((u) => (u.claims?.sub || u.login) === sub);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };

const scopes = { roles: ['roles'], ...(settings.claims_scopes || {}) };
const provider = new Provider(issuer, {
  clients: settings.clients,
  jwks: { keys: [jwk] },
  cookies: { keys: ['dev-only-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    ...scopes,
  },
  scopes: ['openid', 'offline_access', ...Object.keys(scopes)],
  // the claims go into the ID token too (as Keycloak and most SSO servers do)
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="vi"><meta charset="utf-8">
<title>Đăng xuất</title><h1>Đăng xuất khỏi hệ thống xác thực tập trung?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Đăng xuất</button>
<button type="submit" form="op.logoutForm">Giữ đăng nhập</button></html>`;
      },
    },
  },
  ttl: { IdToken: settings.id_token_ttl || 3600 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = bySub(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: () => ({ sub, ...(user.claims || {}) }) };
  },
  async loadExistingGrant(ctx) {
    // first-party client: every scope and claim asked for is granted
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><meta charset="utf-8"><title>Lỗi</title><h1>Lỗi</h1><pre>${
      String(out.error).replace(/[<&]/g, '')}: ${String(out.error_description || '').replace(/[<&]/g, '')}</pre>`;
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const form = (uid, message) => `<!DOCTYPE html><html lang="vi"><meta charset="utf-8">
<title>Đăng nhập hệ thống xác thực tập trung</title>
<h1>Đăng nhập hệ thống xác thực tập trung</h1>
${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>Tên đăng nhập <input name="login" autocomplete="username" required></label>
<label>Mật khẩu <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Đăng nhập</button></form></html>`;

const readBody = (req) => new Promise((resolve) => {
  let data = '';
  req.on('data', (chunk) => { data += chunk; });
  req.on('end', () => resolve(new URLSearchParams(data)));
});

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(form(uid));
    return;
  }
  const body = await readBody(req);
  const user = users().find((u) => u.login === body.get('login') && u.password === body.get('password'));
  if (!user) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(form(uid, 'Tên đăng nhập hoặc mật khẩu không đúng.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.claims?.sub || user.login } },
    { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url || '');
  if (!match) return callback(req, res);
  return interaction(req, res, match[1]).catch((err) => {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`interaction failed: ${err.message}`);
  });
});
server.listen(Number(args.port), args.host, () => {
  if (args['pid-file']) writeFileSync(args['pid-file'], `${process.pid}\n`);
  console.log(`ready ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
