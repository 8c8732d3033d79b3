// A real OpenID Connect provider for the single sign-on tests (tests/it/sso.rs): the certified
// `oidc-provider` package on a loopback port, with one confidential client (PKCE required), the
// accounts the test names, and logins completed without a form (the test says who signs in
// next). A control endpoint makes the next ID token misbehave — signed with the provider's own
// key but for another audience, already expired, or with another nonce — so the service's checks
// are tested against real signatures.
//
// Usage: node provider.mjs REDIRECT_URI CLIENT_ID CLIENT_SECRET
// Prints one line of JSON, {"issuer": "http://127.0.0.1:PORT"}, once it listens.
// Control: POST /__test/login {"sub","email","email_verified"} (who signs in next),
//          POST /__test/tamper {"mode": "audience" | "expired" | "nonce"} (the next ID token).

import http from 'node:http'

import * as jose from 'jose'
import Provider from 'oidc-provider'

const [redirectUri, clientId, clientSecret] = process.argv.slice(2)
if (!redirectUri || !clientId || !clientSecret) {
  console.error('usage: node provider.mjs REDIRECT_URI CLIENT_ID CLIENT_SECRET')
  process.exit(2)
}

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' }

const accounts = new Map()
let nextLogin = null
let tamper = null

function readJson (req) {
  return new Promise((resolve, reject) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      try { resolve(JSON.parse(body || '{}')) } catch (e) { reject(e) }
    })
  })
}

/** The ID token again, signed with the provider's key, with one claim made wrong. */
async function tampered (idToken, mode) {
  const claims = jose.decodeJwt(idToken)
  const now = Math.floor(Date.now() / 1000)
  if (mode === 'audience') claims.aud = 'someone-else'
  if (mode === 'expired') { claims.iat = now - 7200; claims.exp = now - 3600 }
  if (mode === 'nonce') claims.nonce = 'not-the-nonce-that-was-sent'
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT' })
    .sign(privateKey)
}

const server = http.createServer()
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic'
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['lcspr-tracker-tests-only'] },
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (ctx, sub) => {
      const claims = accounts.get(sub)
      return claims ? { accountId: sub, claims: () => ({ sub, ...claims }) } : undefined
    },
    // Consent is taken as given: the service is the partnership's own client.
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId })
      grant.addOIDCScope('openid email profile')
      await grant.save()
      return grant
    }
  })
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.path === '/token' && tamper && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token, tamper) }
      tamper = null
    }
  })
  const handle = provider.callback()
  server.on('request', async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/__test/login') {
        const { sub, email, email_verified: verified } = await readJson(req)
        accounts.set(sub, { email, email_verified: verified, name: sub })
        nextLogin = sub
        res.end('ok')
      } else if (req.method === 'POST' && req.url === '/__test/tamper') {
        tamper = (await readJson(req)).mode
        res.end('ok')
      } else if (req.url.startsWith('/interaction/')) {
        await provider.interactionDetails(req, res)
        await provider.interactionFinished(req, res, { login: { accountId: nextLogin } }, { mergeWithLastSubmission: false })
      } else {
        handle(req, res)
      }
    } catch (e) {
      res.statusCode = 500
      res.end(String(e && e.stack))
    }
  })
  console.log(JSON.stringify({ issuer }))
})
