// Package fakevendor is a fake third-party vendor for tests: an OAuth 2.0
// authorization server (authorization code with PKCE, refresh tokens with
// rotation and reuse detection, client credentials, RFC 7009 revocation)
// and a small JSON API behind it, served by an httptest.Server on
// 127.0.0.1.
//
// It is written by hand on purpose. Real OAuth server libraries are built to
// behave; Patchbay's tests need a vendor that misbehaves on demand — fails
// the next calls, rate-limits, answers slowly, rejects every refresh,
// revokes every grant behind Patchbay's back, grants fewer scopes than asked
// — and that records what it was sent. A few hundred lines of standard
// library do that, and stay easy to bend.
//
// # Endpoints
//
//	GET  /oauth/authorize  auto-approves (no login page) and redirects with ?code=&state=
//	POST /oauth/token      authorization_code, refresh_token, client_credentials
//	POST /oauth/revoke     RFC 7009
//	GET  /api/whoami       {"account":{"id":…,"name":…},"scopes":[…]}
//	GET  /api/items        paginated list; needs scope items:read
//	POST /api/items        creates an item; needs scope items:write; honours Idempotency-Key
//	ANY  /api/echo/...     echoes the call, its Idempotency-Key and its credential (proxy.go)
//
// The API accepts an OAuth access token or an API key as a Bearer token, an
// API key in X-Api-Key, or HTTP Basic for users added with [Vendor.AddBasic].
//
// # Use
//
// In a test:
//
//	v := fakevendor.New(t)               // closed when the test ends
//	conn := v.Connector()                // a catalog entry pointing at v
//	v.FailNext(2, http.StatusServiceUnavailable)
//
// Outside a test (an end-to-end or browser test driving a whole process),
// [NewServer] starts one that lives until [Vendor.Close].
//
// Every method is safe for concurrent use.
package fakevendor
