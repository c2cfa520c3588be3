package connection

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/patchbay/patchbay"
)

// Redacted replaces a secret in the request log.
const Redacted = "[REDACTED]"

// MaxLoggedBody bounds each body excerpt in the request log.
const MaxLoggedBody = 4 << 10

// secretWords are parts of JSON field and query parameter names whose
// values are redacted whatever they hold.
var secretWords = []string{"token", "secret", "password", "passwd", "api_key", "apikey", "api-key", "authorization",
	"credential", "private_key", "signature", "cookie", "session", "client_secret", "access_key", "refresh"}

// SecretName reports whether a field or parameter name looks like it holds
// a secret.
func SecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return n == "key" || n == "pwd" || n == "auth" || n == "sig"
}

// redactor removes a connection's own credential values, and values of
// fields named like secrets, from what the request log keeps.
type redactor struct {
	secrets []string
}

// newRedactor knows the credential's values: the token, and every
// credential field that is secret or named like one.
func newRedactor(cn *patchbay.Connector, cred credential) *redactor {
	r := &redactor{}
	add := func(v string) {
		// Very short values would redact ordinary text; no real credential
		// is that short.
		if len(v) >= 6 {
			r.secrets = append(r.secrets, v, url.QueryEscape(v))
		}
	}
	add(cred.AccessToken)
	secretField := map[string]bool{}
	for _, f := range cn.Fields {
		secretField[f.Name] = f.Secret
	}
	for name, v := range cred.Fields {
		if secretField[name] || SecretName(name) {
			add(v)
		}
	}
	return r
}

// learn adds the values a request carries under secret-looking names (in
// its query, JSON body or form body), so a vendor echoing them back is
// redacted too.
func (r *redactor) learn(path string, body []byte) {
	add := func(v string) {
		if len(v) >= 6 {
			r.secrets = append(r.secrets, v, url.QueryEscape(v))
		}
	}
	fromQuery := func(raw string) {
		if q, err := url.ParseQuery(raw); err == nil {
			for k, vs := range q {
				if SecretName(k) {
					for _, v := range vs {
						add(v)
					}
				}
			}
		}
	}
	if _, raw, ok := strings.Cut(path, "?"); ok {
		fromQuery(raw)
	}
	if len(body) == 0 || len(body) > 1<<20 {
		return
	}
	var v any
	if json.Unmarshal(body, &v) == nil {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, val := range x {
					if s, ok := val.(string); ok && SecretName(k) {
						add(s)
					}
					walk(val)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	} else {
		fromQuery(string(body))
	}
}

// text replaces every known secret value in s.
func (r *redactor) text(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	return s
}

// path redacts a path's query parameters named like secrets, then every
// known secret value.
func (r *redactor) path(p string) string {
	base, raw, ok := strings.Cut(p, "?")
	if ok {
		q, err := url.ParseQuery(raw)
		if err == nil {
			for k := range q {
				if SecretName(k) {
					q[k] = []string{Redacted}
				}
			}
			raw = q.Encode()
		}
		p = base + "?" + raw
	}
	return r.text(p)
}

// body returns a bounded, redacted excerpt of a body: JSON fields named
// like secrets lose their values, then known secret values are replaced,
// then the text is cut to MaxLoggedBody.
func (r *redactor) body(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := string(b)
	if len(b) <= 1<<20 && json.Valid(b) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			if out, err := json.Marshal(redactJSON(v)); err == nil {
				s = string(out)
			}
		}
	} else if q, err := url.ParseQuery(s); err == nil && strings.Contains(s, "=") && !strings.ContainsAny(s, " \n{") {
		// A form body, as some vendors (Stripe) take.
		for k := range q {
			if SecretName(k) {
				q[k] = []string{Redacted}
			}
		}
		s = q.Encode()
	}
	s = r.text(s)
	if len(s) > MaxLoggedBody {
		s = s[:MaxLoggedBody]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func redactJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if SecretName(k) {
				if _, nested := val.(map[string]any); !nested {
					x[k] = Redacted
					continue
				}
			}
			x[k] = redactJSON(val)
		}
	case []any:
		for i := range x {
			x[i] = redactJSON(x[i])
		}
	}
	return v
}
