package fakevendor

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// item is one entry of /api/items.
type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// idemEntry is the remembered answer to an Idempotency-Key.
type idemEntry struct {
	bodyHash [32]byte
	status   int
	answer   []byte
}

// caller is who an API request authenticated as.
type caller struct {
	accountID string
	scopes    []string
}

// apiError is an API error answer.
type apiError struct {
	status int
	header string // WWW-Authenticate, when not empty
	body   map[string]string
}

func (e *apiError) write(w http.ResponseWriter) {
	if e.header != "" {
		w.Header().Set("WWW-Authenticate", e.header)
	}
	writeJSON(w, e.status, e.body)
}

func invalidToken(description string) *apiError {
	return &apiError{status: http.StatusUnauthorized, header: `Bearer error="invalid_token"`,
		body: map[string]string{"error": "invalid_token", "error_description": description}}
}

func insufficientScope(scope string) *apiError {
	return &apiError{status: http.StatusForbidden, header: `Bearer error="insufficient_scope", scope="` + scope + `"`,
		body: map[string]string{"error": "insufficient_scope", "scope": scope}}
}

// authenticate finds the caller of an API request: an access token or an
// API key as a Bearer token, an API key in X-Api-Key, or HTTP Basic. v.mu
// must be held.
func (v *Vendor) authenticate(r *http.Request) (*caller, *apiError) {
	if key := r.Header.Get("X-Api-Key"); key != "" {
		if scopes, ok := v.apiKeys[key]; ok {
			return &caller{accountID: v.accountFor("api_key:" + key), scopes: scopes}, nil
		}
		return nil, invalidToken("unknown API key")
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		// RFC 6750 section 3.1: no error code when no credential was sent.
		return nil, &apiError{status: http.StatusUnauthorized, header: `Bearer realm="fakevendor"`,
			body: map[string]string{"error": "unauthorized", "error_description": "no credentials"}}
	}
	if user, pass, ok := r.BasicAuth(); ok {
		want, known := v.basics[user]
		if !known || subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 {
			e := invalidToken("wrong user name or password")
			e.header = `Basic realm="fakevendor"`
			return nil, e
		}
		return &caller{accountID: v.accountFor("basic:" + user), scopes: Scopes}, nil
	}
	scheme, token, _ := strings.Cut(authz, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, invalidToken("unsupported Authorization scheme")
	}
	if at, ok := v.access[token]; ok {
		switch {
		case at.grant.revoked:
			return nil, invalidToken("token revoked: " + at.grant.why)
		case at.revoked:
			return nil, invalidToken("token revoked by the client")
		case !v.now().Before(at.expires):
			return nil, invalidToken("token expired")
		}
		return &caller{accountID: at.grant.accountID, scopes: at.scopes}, nil
	}
	if scopes, ok := v.apiKeys[token]; ok {
		return &caller{accountID: v.accountFor("api_key:" + token), scopes: scopes}, nil
	}
	return nil, invalidToken("unknown token")
}

// authorizeAPI authenticates r and checks it has scope (when not empty);
// v.mu must be held.
func (v *Vendor) authorizeAPI(r *http.Request, scope string) (*caller, *apiError) {
	c, e := v.authenticate(r)
	if e != nil {
		return nil, e
	}
	if scope != "" && !slices.Contains(c.scopes, scope) {
		return nil, insufficientScope(scope)
	}
	return c, nil
}

// whoami serves GET /api/whoami, which needs no scope.
func (v *Vendor) whoami(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, e := v.authorizeAPI(r, "")
	if e == nil && v.faults.wrongScope {
		e = insufficientScope(ScopeProfile)
	}
	if e != nil {
		e.write(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account": map[string]string{"id": c.accountID, "name": AccountName},
		"scopes":  slices.Clone(c.scopes),
	})
}

// listItems serves GET /api/items?cursor=&limit=.
func (v *Vendor) listItems(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, e := v.authorizeAPI(r, ScopeItemsRead); e != nil {
		e.write(w)
		return
	}
	limit := v.pageSize
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": "invalid_request", "error_description": "limit must be 1 to 100"})
			return
		}
		limit = n
	}
	offset := 0
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		n, ok := parseCursor(cur)
		if !ok || n > len(v.items) {
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": "invalid_cursor", "error_description": "unknown cursor"})
			return
		}
		offset = n
	}
	end := min(offset+limit, len(v.items))
	var next *string
	if end < len(v.items) {
		c := makeCursor(end)
		next = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": slices.Clone(v.items[offset:end]), "next_cursor": next})
}

// createItem serves POST /api/items with a {"name": …} body. A repeated
// Idempotency-Key (per account) with the same body gets the first answer
// again, with Idempotent-Replayed: true; with another body, 409.
func (v *Vendor) createItem(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c, e := v.authorizeAPI(r, ScopeItemsWrite)
	if e != nil {
		e.write(w)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	idemKey := c.accountID + "\x00" + key
	hash := sha256.Sum256(body)
	if key != "" {
		if prev, ok := v.idem[idemKey]; ok {
			if prev.bodyHash != hash {
				writeJSON(w, http.StatusConflict, map[string]string{"error": "idempotency_key_reused",
					"error_description": "Idempotency-Key was used with another request body"})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.answer)
			return
		}
	}
	var in struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || strings.TrimSpace(in.Name) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": "invalid_request", "error_description": `body must be {"name": "…"} with a name`})
		return
	}
	v.nextItem++
	it := item{ID: fmt.Sprintf("item_%04d", v.nextItem), Name: in.Name}
	v.items = append(v.items, it)
	answer, _ := json.Marshal(it)
	answer = append(answer, '\n')
	if key != "" {
		v.idem[idemKey] = &idemEntry{bodyHash: hash, status: http.StatusCreated, answer: answer}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(answer)
}

// seedItems replaces the items with n generated ones; v.mu must be held.
func (v *Vendor) seedItems(n int) {
	v.items = make([]item, n)
	for i := range v.items {
		v.items[i] = item{ID: fmt.Sprintf("item_%04d", i+1), Name: fmt.Sprintf("Item %d", i+1)}
	}
	v.nextItem = n
}

func makeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func parseCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
