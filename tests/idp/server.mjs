// A real OpenID Connect provider for the test suite: panva's oidc-provider, configured from a
// JSON file (argv[2]), with its own login pages (password, then a TOTP code when step-up or
// re-authentication asks for it) and test-only control endpoints. Started by
// tests/identity/idp.py; prints one JSON line, {"issuer": "http://127.0.0.1:<port>"}, on stdout
// once it listens, and nothing else there (everything else goes to stderr).
//
// Access tokens are RFC 9068 JWTs for the configured resource (RFC 8707 resource indicator).
// Everything is in memory: sessions, grants, codes and refresh tokens live in one Map shared by
// every Provider this process builds (a key rotation builds a new one over the same store).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

// stdout carries the ready line only: oidc-provider prints its notices with console.info.
for (const name of ['log', 'info', 'debug']) {
  console[name] = (...args) => console.error(...args);
}
// oidc-provider 9 supports Node.js 22 LTS and later. It runs on 20.18 and later (it warns
// "Unsupported runtime" there); older releases lack what it calls (URL.parse, crypto.hash).
if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
  console.error(`Node.js ${process.versions.node} is too old for oidc-provider 9: use Node.js 22 LTS (20.18 at least)`);
  process.exit(1);
}
const { default: Provider, interactionPolicy, errors } = await import('oidc-provider');

const ALGORITHMS = new Set(['RS256', 'ES256', 'EdDSA']);
const CONTROL_BODY_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Configuration

function loadConfig(path) {
  if (!path) {
    throw new Error('usage: node server.mjs <config.json>');
  }
  const raw = JSON.parse(fs.readFileSync(path, 'utf8'));
  const config = {
    port: 0,
    access_token_ttl: 600,
    algorithm: 'RS256',
    resource_scope: 'orders',
    clients: [],
    users: [],
    ...raw,
  };
  if (typeof config.resource !== 'string' || !URL.canParse(config.resource)) {
    throw new Error('config.resource must be an absolute URI (the gateway\'s audience)');
  }
  if (!ALGORITHMS.has(config.algorithm)) {
    throw new Error(`config.algorithm must be one of ${[...ALGORITHMS].join(', ')}`);
  }
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new Error('config.port must be an integer port (0: any free port)');
  }
  if (!config.acr || typeof config.acr.password !== 'string' || typeof config.acr.mfa !== 'string') {
    throw new Error('config.acr must give the "password" and "mfa" acr values');
  }
  return config;
}

const config = loadConfig(process.argv[2]);
const ACR_PASSWORD = config.acr.password;
const ACR_MFA = config.acr.mfa;

const usersById = new Map(config.users.map((user) => [user.id, user]));
const usersByName = new Map(config.users.map((user) => [user.username, user]));
const disabledUsers = new Set();

// Extra claims a client-credentials token of that client carries ("claims" in its entry).
const clientClaims = new Map(
  config.clients.filter((c) => c.claims).map((c) => [c.client_id, c.claims]),
);
// Clients that may introspect any token (the others only their own).
const introspectors = new Set(
  config.clients.filter((c) => c.introspection).map((c) => c.client_id),
);

function clientMetadata(entry, issuer) {
  const {
    client_id: clientId,
    client_secret: clientSecret,
    public: isPublic = false,
    grant_types: grantTypes = [],
    redirect_uris: redirectUris = [],
    introspection,
    claims,
    ...rest
  } = entry;
  const metadata = {
    client_id: clientId,
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: redirectUris.map((uri) => uri.replaceAll('<issuer>', issuer)),
    ...rest,
  };
  if (isPublic) {
    metadata.token_endpoint_auth_method = 'none';
  } else {
    metadata.client_secret = clientSecret;
  }
  return metadata;
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, one step of drift either way)

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = alphabet.indexOf(char);
    if (index === -1) throw new Error('invalid base32 secret');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function hotp(key, counter) {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

function totpMatches(secret, code) {
  if (!secret || !/^\d{6}$/.test(code)) return false;
  const key = base32Decode(secret);
  const step = Math.floor(Date.now() / 1000 / 30);
  return [-1, 0, 1].some((drift) => crypto.timingSafeEqual(
    Buffer.from(hotp(key, step + drift)),
    Buffer.from(code),
  ));
}

// ---------------------------------------------------------------------------------------------
// Signing keys

let keyCounter = 0;

function generateSigningKey(alg) {
  let pair;
  switch (alg) {
    case 'RS256':
      pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'ES256':
      pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'EdDSA':
      pair = crypto.generateKeyPairSync('ed25519');
      break;
    default:
      throw new Error(`unsupported algorithm ${alg}`);
  }
  keyCounter += 1;
  const kid = `${alg.toLowerCase()}-${keyCounter}-${crypto.randomBytes(4).toString('hex')}`;
  return { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

// The signing key first (oidc-provider signs with the first matching key), then the keys
// that are only published for verification.
const started = Date.now();
// Where start-up got to, in the log: a start that hangs says at which step.
const step = (what) => console.error(`start: ${what} after ${Date.now() - started} ms`);
let signingKeys = [generateSigningKey(config.algorithm)];
step('signing key generated');

// ---------------------------------------------------------------------------------------------
// Storage: one in-memory Map for every Provider this process builds

const store = new Map(); // "<Model>:<id>" -> { payload, expiresAt (ms) }

function liveEntries(model) {
  const now = Date.now();
  const out = [];
  for (const [key, entry] of store) {
    if (entry.expiresAt <= now) {
      store.delete(key);
    } else if (key.startsWith(`${model}:`)) {
      out.push([key, entry.payload]);
    }
  }
  return out;
}

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload, expiresAt });
  }

  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    return liveEntries(this.model).find(([, payload]) => payload.uid === uid)?.[1];
  }

  async findByUserCode(userCode) {
    return liveEntries(this.model).find(([, payload]) => payload.userCode === userCode)?.[1];
  }

  async consume(id) {
    const payload = await this.find(id);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, payload] of liveEntries(this.model)) {
      if (payload.grantId === grantId) store.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Provider

const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function requestedAcrValues(params) {
  return (params.acr_values ?? '').split(' ').filter(Boolean);
}

// The login prompt also runs when the request asks for the mfa acr and the session has not
// reached it (oidc-provider treats acr_values as voluntary; here it is a step-up request).
function loginPolicy() {
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'acr_values',
    'the requested authentication context was not reached',
    'login_required',
    (ctx) => (
      requestedAcrValues(ctx.oidc.params).includes(ACR_MFA) && ctx.oidc.acr !== ACR_MFA
        ? interactionPolicy.Check.REQUEST_PROMPT
        : interactionPolicy.Check.NO_NEED_TO_PROMPT
    ),
  ));
  return policy;
}

// Consent is given automatically: openid, the requested OIDC scopes and claims, and every
// requested resource's scope.
async function grantEverything(provider, grant, { oidcScopes, claims, resourceServers }) {
  grant.addOIDCScope(['openid', ...oidcScopes].join(' '));
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, resourceServer] of Object.entries(resourceServers)) {
    grant.addResourceScope(indicator, resourceServer.scope);
  }
  return grant.save();
}

async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const { Grant } = oidc.provider;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== oidc.account.accountId) {
    grant = new Grant({ accountId: oidc.account.accountId, clientId: oidc.client.clientId });
  }
  await grantEverything(oidc.provider, grant, {
    oidcScopes: [...oidc.requestParamOIDCScopes],
    claims: [...oidc.requestParamClaims],
    resourceServers: oidc.resourceServers,
  });
  return grant;
}

async function findAccount(ctx, sub) {
  const user = usersById.get(sub);
  if (!user || disabledUsers.has(sub)) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: user.name,
        preferred_username: user.username,
        email: user.email,
        groups: user.groups ?? [],
        ...(user.region == null ? undefined : { region: user.region }),
      };
    },
  };
}

// JWT access tokens carry what oidc-provider puts in (iss, sub, aud, exp, iat, jti, client_id,
// scope) and, from here: for a person, their groups, region, name and username and the acr, amr
// and auth_time of the login that obtained the token; for a client, its configured "claims".
async function extraTokenClaims(ctx, token) {
  issuedJwts.set(token.jti, {
    clientId: token.clientId,
    accountId: token.accountId,
    grantId: token.grantId,
  });
  if (token.kind === 'ClientCredentials') {
    return clientClaims.get(token.clientId);
  }
  if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
  const user = usersById.get(token.accountId);
  const { AuthorizationCode, RefreshToken, RotatedRefreshToken } = ctx.oidc.entities;
  const source = AuthorizationCode ?? RotatedRefreshToken ?? RefreshToken;
  return {
    groups: user?.groups ?? [],
    ...(user?.region == null ? undefined : { region: user.region }),
    name: user?.name,
    preferred_username: user?.username,
    acr: source?.acr,
    amr: source?.amr,
    auth_time: source?.authTime,
  };
}

// ---------------------------------------------------------------------------------------------
// Introspection of JWT access tokens (RFC 7662)
//
// oidc-provider refuses to introspect its JWT access tokens ("Structured JWT Tokens cannot be
// introspected"): it stores nothing of them. Keycloak and Okta do introspect theirs, answering
// from the session or grant behind the token, and the gateway's introspection option is for such
// issuers. So the discovery document names /introspect, which answers a JWT access token the way
// they do: active while it has not expired and the grant it came from still exists (revoking the
// grant's refresh token, or disabling its user, ends it). Any other token goes on to
// oidc-provider's own endpoint, unchanged.

const issuedJwts = new Map(); // jti -> { clientId, accountId, grantId }

function basicClient(header) {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return undefined;
  const [id, secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
  const entry = config.clients.find((c) => c.client_id === decodeURIComponent(id ?? ''));
  const given = Buffer.from(decodeURIComponent(secret ?? ''));
  const expected = Buffer.from(entry?.client_secret ?? '');
  if (!entry || given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    return undefined;
  }
  return entry;
}

function jwtPayload(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

async function introspect(req, res, issuer) {
  const text = await readBody(req);
  const client = basicClient(req.headers.authorization);
  if (!client) {
    sendJson(res, 401, { error: 'invalid_client' });
    return;
  }
  const token = new URLSearchParams(text).get('token') ?? '';
  const payload = jwtPayload(token);
  const issued = payload && issuedJwts.get(payload.jti);
  if (!payload) {
    // Not a JWT: oidc-provider's own endpoint answers (refresh tokens, opaque ones), as it would.
    const answer = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: req.headers.authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: text,
    });
    send(res, answer.status, 'application/json', await answer.text());
    return;
  }
  if (!issued || payload.iss !== issuer) {
    sendJson(res, 200, { active: false }); // not a token this provider issued (RFC 7662 2.2)
    return;
  }
  const allowed = client.introspection || client.client_id === issued.clientId;
  const grantLives = !issued.grantId || store.has(`Grant:${issued.grantId}`);
  const userLives = !issued.accountId || !disabledUsers.has(issued.accountId);
  const active = allowed && payload.exp * 1000 > Date.now() && grantLives && userLives;
  sendJson(res, 200, active
    ? { active: true, sub: payload.sub, client_id: payload.client_id, exp: payload.exp,
      iat: payload.iat, iss: payload.iss, aud: payload.aud, token_type: 'Bearer' }
    : { active: false });
}

function resourceServerInfo(resourceIndicator) {
  return {
    audience: resourceIndicator,
    scope: config.resource_scope,
    accessTokenFormat: 'jwt',
    accessTokenTTL: config.access_token_ttl,
    jwt: { sign: { alg: config.algorithm, kid: signingKeys[0].kid } },
  };
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, id, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<main id="${id}">
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', 'error-page', `
<p id="error-code">${escapeHtml(out.error)}</p>
<p id="error-description">${escapeHtml(out.error_description)}</p>`);
}

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    adapter: SharedMemoryAdapter,
    clients: config.clients.map((entry) => clientMetadata(entry, issuer)),
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    acrValues: [ACR_PASSWORD, ACR_MFA],
    responseTypes: ['code'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups', 'region'],
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: config.algorithm,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        async allowedPolicy(ctx, client, token) {
          return introspectors.has(client.clientId) || token.clientId === client.clientId;
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false; // answer 200, revoke nothing
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf.includes(config.resource) ? config.resource : oneOf[0];
          return config.resource;
        },
        // Any resource is a JWT resource server whose audience is its indicator, so a test can
        // get a well-signed token for the wrong audience.
        async getResourceServerInfo(ctx, resourceIndicator) {
          return resourceServerInfo(resourceIndicator);
        },
        async useGrantedResource() {
          return true;
        },
      },
    },
    extraTokenClaims,
    findAccount,
    loadExistingGrant,
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    interactions: {
      policy: loginPolicy(),
      async url(ctx, interaction) {
        return `/interaction/${interaction.uid}`;
      },
    },
    renderError,
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? config.access_token_ttl,
      ClientCredentials: (ctx, token) => (
        token.resourceServer?.accessTokenTTL ?? config.access_token_ttl
      ),
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 86400,
      Grant: 86400,
    },
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

// ---------------------------------------------------------------------------------------------
// HTTP: our pages and control endpoints, everything else to the current Provider

let provider;
let providerCallback;

function installProvider(issuer) {
  provider = buildProvider(issuer);
  providerCallback = provider.callback();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > CONTROL_BODY_LIMIT) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

const sendHtml = (res, status, html) => send(res, status, 'text/html; charset=utf-8', html);
const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));

function loginPage(uid, error) {
  return page('Sign in', 'login-page', `
${error ? `<p id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>`);
}

function otpPage(uid, error) {
  return page('One-time code', 'otp-page', `
<p>Enter the 6-digit code from your authenticator app.</p>
${error ? `<p id="otp-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/otp">
<p><label for="otp">One-time code</label> <input id="otp" name="otp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus></p>
<p><button type="submit">Verify</button></p>
</form>`);
}

// Interactions whose password step passed and that wait for the one-time code: uid -> accountId.
const pendingSecondFactor = new Map();

// A one-time code is asked for when the request wants the mfa acr, or when a signed-in user
// must sign in again (max_age passed, or prompt=login).
function needsSecondFactor(details) {
  if (requestedAcrValues(details.params).includes(ACR_MFA)) return true;
  const { reasons } = details.prompt;
  return Boolean(details.session?.accountId)
    && (reasons.includes('max_age') || reasons.includes('login_prompt'));
}

async function autoConsent(req, res, details) {
  const { Grant } = provider;
  let grant = details.grantId ? await Grant.find(details.grantId) : undefined;
  grant ??= new Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const { missingOIDCScope = [], missingOIDCClaims = [], missingResourceScopes = {} } = details.prompt.details;
  grant.addOIDCScope(['openid', ...missingOIDCScope].join(' '));
  if (missingOIDCClaims.length) grant.addOIDCClaims(missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missingResourceScopes)) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    consent: details.grantId ? {} : { grantId },
  }, { mergeWithLastSubmission: true });
}

async function finishLogin(req, res, accountId, secondFactor) {
  await provider.interactionFinished(req, res, {
    login: {
      accountId,
      acr: secondFactor ? ACR_MFA : ACR_PASSWORD,
      amr: secondFactor ? ['pwd', 'otp'] : ['pwd'],
      remember: true,
    },
  }, { mergeWithLastSubmission: false });
}

async function handleInteraction(req, res, uid, step) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (error) {
    if (error instanceof errors.SessionNotFound) {
      sendHtml(res, 400, page('Error', 'error-page', `
<p id="error-code">${escapeHtml(error.message)}</p>
<p id="error-description">${escapeHtml(error.error_description)}</p>`));
      return;
    }
    throw error;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, page('Error', 'error-page', '<p id="error-code">interaction mismatch</p>'));
    return;
  }
  if (details.prompt.name === 'consent') {
    await autoConsent(req, res, details);
    return;
  }

  if (req.method === 'GET' && step === undefined) {
    sendHtml(res, 200, pendingSecondFactor.has(uid) ? otpPage(uid) : loginPage(uid));
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, 'text/plain', 'method not allowed');
    return;
  }
  const form = new URLSearchParams(await readBody(req));

  if (step === 'login') {
    const user = usersByName.get(form.get('username') ?? '');
    const password = Buffer.from(form.get('password') ?? '');
    const valid = user && !disabledUsers.has(user.id)
      && password.length === Buffer.byteLength(user.password)
      && crypto.timingSafeEqual(password, Buffer.from(user.password));
    if (!valid) {
      sendHtml(res, 200, loginPage(uid, 'Invalid username or password.'));
      return;
    }
    if (needsSecondFactor(details)) {
      pendingSecondFactor.set(uid, user.id);
      send(res, 303, 'text/plain', '', { location: `/interaction/${uid}` });
      return;
    }
    await finishLogin(req, res, user.id, false);
    return;
  }

  if (step === 'otp') {
    const accountId = pendingSecondFactor.get(uid);
    const user = usersById.get(accountId);
    if (!user || disabledUsers.has(accountId)) {
      pendingSecondFactor.delete(uid);
      sendHtml(res, 200, loginPage(uid, 'Sign in again.'));
      return;
    }
    if (!totpMatches(user.totp_secret, (form.get('otp') ?? '').trim())) {
      sendHtml(res, 200, otpPage(uid, 'Invalid one-time code.'));
      return;
    }
    pendingSecondFactor.delete(uid);
    await finishLogin(req, res, accountId, true);
    return;
  }
  send(res, 404, 'text/plain', 'not found');
}

function callbackPage(url) {
  const field = (name) => `<p id="${name}">${escapeHtml(url.searchParams.get(name) ?? '')}</p>`;
  return page('Callback', 'callback-page', ['code', 'state', 'error', 'error_description', 'iss']
    .map(field).join('\n'));
}

async function rotate(issuer, { keep_old: keepOld = true }) {
  const key = generateSigningKey(config.algorithm);
  signingKeys = keepOld ? [key, ...signingKeys] : [key];
  installProvider(issuer);
  return { kid: key.kid, kids: signingKeys.map((k) => k.kid) };
}

// What oidc-provider lets us take back for a user: their grants (and with them every stored
// artifact of those grants: authorization codes, refresh tokens, opaque access tokens) and their
// sessions. JWT access tokens are not stored, so those already issued stay valid until they
// expire. findAccount no longer finds the user, so no new token is issued for them.
async function disable({ user: name }) {
  const user = usersById.get(name) ?? usersByName.get(name);
  if (!user) return undefined;
  disabledUsers.add(user.id);
  const models = ['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
    'BackchannelAuthenticationRequest'];
  const grants = liveEntries('Grant').filter(([, grant]) => grant.accountId === user.id);
  for (const [key, grant] of grants) {
    for (const model of models) {
      await new SharedMemoryAdapter(model).revokeByGrantId(grant.jti);
    }
    store.delete(key);
  }
  const sessions = liveEntries('Session').filter(([, session]) => session.accountId === user.id);
  for (const [key] of sessions) store.delete(key);
  for (const [uid, accountId] of pendingSecondFactor) {
    if (accountId === user.id) pendingSecondFactor.delete(uid);
  }
  return { user: user.id, revoked_grants: grants.length, ended_sessions: sessions.length };
}

function isLoopback(req) {
  const address = req.socket.remoteAddress ?? '';
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

// Canned answers (test-only): path -> { status, type, body }. A test makes the provider answer
// one of its paths as a broken or hostile provider would (an odd JWKS, a failing or huge
// introspection answer); `pad` spaces after the body (still the same JSON) make a large answer
// without a large request.
const cannedAnswers = new Map();

function setCannedAnswer({ path, status = 200, content_type: type = 'application/json', body = '', pad = 0, clear = false }) {
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('/__control/')) {
    throw new Error('override needs a path of the provider (not a control endpoint)');
  }
  if (clear) {
    cannedAnswers.delete(path);
  } else {
    cannedAnswers.set(path, { status, type, body: String(body) + ' '.repeat(pad) });
  }
  return { paths: [...cannedAnswers.keys()] };
}

async function handleControl(req, res, issuer, action) {
  if (!isLoopback(req)) {
    sendJson(res, 403, { error: 'control endpoints answer loopback callers only' });
    return;
  }
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'POST only' });
    return;
  }
  const text = await readBody(req);
  const body = text ? JSON.parse(text) : {};
  if (action === 'rotate') {
    sendJson(res, 200, await rotate(issuer, body));
  } else if (action === 'override') {
    sendJson(res, 200, setCannedAnswer(body));
  } else if (action === 'disable') {
    const result = await disable(body);
    if (result) sendJson(res, 200, result);
    else sendJson(res, 404, { error: `no user ${body.user}` });
  } else {
    sendJson(res, 404, { error: `no control action ${action}` });
  }
}

function handler(issuer) {
  return async (req, res) => {
    const url = new URL(req.url, issuer);
    const interaction = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login|otp))?$/);
    const control = url.pathname.match(/^\/__control\/([a-z]+)$/);
    const canned = control ? undefined : cannedAnswers.get(url.pathname);
    try {
      if (canned) {
        await readBody(req).catch(() => undefined);
        send(res, canned.status, canned.type, canned.body);
      } else if (interaction) {
        await handleInteraction(req, res, interaction[1], interaction[2]);
      } else if (control) {
        await handleControl(req, res, issuer, control[1]);
      } else if (url.pathname === '/introspect' && req.method === 'POST') {
        await introspect(req, res, issuer);
      } else if (url.pathname === '/.well-known/openid-configuration' && !req.headers['x-opg-raw']) {
        // oidc-provider only adds to its discovery document: the endpoint is replaced here.
        const raw = await fetch(`${issuer}${url.pathname}`, { headers: { 'x-opg-raw': '1' } });
        const document = await raw.json();
        document.introspection_endpoint = `${issuer}/introspect`;
        sendJson(res, raw.status, document);
      } else if (url.pathname === '/__test/callback') {
        sendHtml(res, 200, callbackPage(url));
      } else {
        providerCallback(req, res);
      }
    } catch (error) {
      console.error(error);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: String(error) });
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Start

const server = http.createServer();
step('listening next');
server.listen(config.port, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  installProvider(issuer);
  server.on('request', handler(issuer));
  process.stdout.write(`{"issuer": ${JSON.stringify(issuer)}}\n`);
  step('ready');
});

// The driver holds our stdin open: when it goes away (even killed), so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
