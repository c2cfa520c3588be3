package connector

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/patchbay/patchbay"
)

// ParseOverrides parses the text form of base-URL overrides,
// "slug=url,slug=url", into the map Load takes. Spaces around entries are
// ignored and an empty spec gives an empty map. Each URL must be
// scheme://host[:port][/prefix] with scheme http or https and no query,
// fragment or credentials. It returns an EINVALID *patchbay.Error naming
// the entry at fault, including a slug given twice; whether the slugs exist
// is checked by Load.
func ParseOverrides(spec string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		slug, raw, ok := strings.Cut(part, "=")
		slug, raw = strings.TrimSpace(slug), strings.TrimSpace(raw)
		if !ok {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %q: want slug=url", part)
		}
		if !slugPattern.MatchString(slug) {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %q: %q is not a connector slug", part, slug)
		}
		if _, dup := out[slug]; dup {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %q: %s is overridden twice", part, slug)
		}
		base, err := parseOverrideURL(raw)
		if err != nil {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %q: %v", part, err)
		}
		out[slug] = base
	}
	return out, nil
}

// parseOverrideURL checks an override URL and returns it as
// scheme://host[/prefix] with no trailing slash.
func parseOverrideURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("URL must start with http:// or https://")
	case u.Host == "":
		return "", errors.New("URL has no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("URL must be scheme://host[:port][/prefix] without credentials, query or fragment")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// applyOverride points every absolute URL of c at base (see Load).
func applyOverride(c *patchbay.Connector, base string) {
	if c.OAuth != nil {
		c.OAuth.AuthorizationURL = rebase(c.OAuth.AuthorizationURL, base)
		c.OAuth.TokenURL = rebase(c.OAuth.TokenURL, base)
		c.OAuth.RevocationURL = rebase(c.OAuth.RevocationURL, base)
	}
	c.API.BaseURL = rebase(c.API.BaseURL, base)
	if c.Verify != nil {
		c.Verify.Path = rebase(c.Verify.Path, base)
	}
}

// rebase swaps the scheme and host of an absolute URL for base's and puts
// base's path prefix before its path. Empty, relative and field-origin
// ("{url}/…") URLs come back unchanged. The host may hold placeholders
// ("https://{shop}.myshopify.com/…"), so this works on the text, not on a
// parsed URL.
func rebase(raw, base string) string {
	if raw == "" || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "{") {
		return raw
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+len("://"):]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		return base
	}
	return base + rest[j:]
}
