// Package connector holds Patchbay's connector catalog: one JSON file per
// vendor under catalog/, embedded in the binary, validated on load, and
// optionally extended or replaced by files from a directory the operator
// names, so new vendors need no rebuild (STYLE.md point 7: connectors are
// data).
//
// Conventions the catalog files follow, beyond the field comments on
// patchbay.Connector:
//
//   - A {name} placeholder in a URL, an auth format, a basic-auth user name
//     or password, or a header value is filled from the connection's field of
//     that name. In auth formats, user names, passwords and header values,
//     {token} is the connection's credential: the OAuth access token, or in
//     api_key mode the connector's first secret field. No field may be called
//     "token".
//   - A URL whose origin is itself a placeholder ("{url}/wp-json/wc/v3") gets
//     its scheme and host from the operator; base-URL overrides leave it
//     alone.
//   - Verify.AccountID and Verify.AccountName are dotted paths into the JSON
//     answer; a segment made of digits indexes an array ("data.0.id").
//   - A relative Verify.Path is appended to API.BaseURL; an absolute one is
//     used as is.
package connector

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/patchbay/patchbay"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// Catalog is a validated, read-only set of connectors keyed by slug. It is
// safe for concurrent use: nothing changes it after Load, and every method
// hands out copies.
type Catalog struct {
	bySlug map[string]*patchbay.Connector
	sorted []*patchbay.Connector // by family, then name, then slug
}

// Filter narrows List. Zero values match everything.
type Filter struct {
	Family   string            // exact family, e.g. patchbay.FamilyPayment
	AuthMode patchbay.AuthMode // connectors that support this mode
	Query    string            // case-insensitive substring of slug, name or description
}

// Load builds a catalog from the embedded catalog files and then, when dir
// is not empty, from every *.json file in dir (not its subdirectories). A
// file in dir whose slug is already in the catalog replaces that connector;
// any other adds one. Each file must hold one connector whose slug is the
// file name without ".json".
//
// Every connector is validated (see Validate) before overrides apply.
// overrides maps a slug to a base URL, scheme://host[:port][/prefix]; for
// that connector the scheme and host of the authorization, token,
// revocation, API base and absolute verify URLs are replaced by the
// override's, and its path prefix is put before their paths. That is how
// tests point a connector at a local fake vendor. URLs whose origin comes
// from a field ({url}) are not touched.
//
// Load returns an EINVALID *patchbay.Error naming the file and field at
// fault when a file does not parse or validate, or when an override is
// malformed or names no connector; and the underlying error when dir cannot
// be read.
func Load(dir string, overrides map[string]string) (*Catalog, error) {
	cat := &Catalog{bySlug: map[string]*patchbay.Connector{}}
	names, err := fs.Glob(catalogFS, "catalog/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := catalogFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		c, err := decode(name+" (embedded)", path.Base(name), b)
		if err != nil {
			return nil, err
		}
		cat.bySlug[c.Slug] = c
	}
	if dir != "" {
		if err := cat.loadDir(dir); err != nil {
			return nil, err
		}
	}
	for _, slug := range slices.Sorted(maps.Keys(overrides)) {
		c, ok := cat.bySlug[slug]
		if !ok {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %s: no connector with that slug", slug)
		}
		base, err := parseOverrideURL(overrides[slug])
		if err != nil {
			return nil, patchbay.Errorf(patchbay.EINVALID, "override %s: %v", slug, err)
		}
		applyOverride(c, base)
	}
	cat.sorted = slices.Collect(maps.Values(cat.bySlug))
	slices.SortFunc(cat.sorted, func(a, b *patchbay.Connector) int {
		return cmp.Or(cmp.Compare(a.Family, b.Family), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Slug, b.Slug))
	})
	return cat, nil
}

// loadDir adds (or replaces) the connectors of dir's *.json files.
func (cat *Catalog) loadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		c, err := decode(file, e.Name(), b)
		if err != nil {
			return err
		}
		cat.bySlug[c.Slug] = c
	}
	return nil
}

// decode parses and validates one catalog file; file names it in errors and
// base is its file name, which must be the slug plus ".json".
func decode(file, base string, b []byte) (*patchbay.Connector, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c patchbay.Connector
	if err := dec.Decode(&c); err != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s: %v", file, err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s: more than one JSON value", file)
	}
	if err := Validate(&c); err != nil {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s: %s", file, patchbay.ErrorMessage(err))
	}
	if want := strings.TrimSuffix(base, ".json"); c.Slug != want {
		return nil, patchbay.Errorf(patchbay.EINVALID, "%s: slug: %q does not match the file name (want %q)", file, c.Slug, want)
	}
	return &c, nil
}

// Get returns a copy of the connector with the given slug, which the caller
// may modify freely, and whether there is one.
func (cat *Catalog) Get(slug string) (*patchbay.Connector, bool) {
	c, ok := cat.bySlug[slug]
	if !ok {
		return nil, false
	}
	return clone(c), true
}

// List returns copies of the connectors f matches, sorted by family, then
// name.
func (cat *Catalog) List(f Filter) []*patchbay.Connector {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	out := []*patchbay.Connector{}
	for _, c := range cat.sorted {
		if f.Family != "" && c.Family != f.Family {
			continue
		}
		if f.AuthMode != "" && !c.Supports(f.AuthMode) {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(c.Slug), q) &&
			!strings.Contains(strings.ToLower(c.Name), q) &&
			!strings.Contains(strings.ToLower(c.Description), q) {
			continue
		}
		out = append(out, clone(c))
	}
	return out
}

// Families counts the catalog's connectors per family.
func (cat *Catalog) Families() map[string]int {
	n := map[string]int{}
	for _, c := range cat.sorted {
		n[c.Family]++
	}
	return n
}

// Len reports how many connectors the catalog holds.
func (cat *Catalog) Len() int { return len(cat.sorted) }

// clone deep-copies a connector so callers cannot reach the catalog's own.
func clone(c *patchbay.Connector) *patchbay.Connector {
	out := *c
	out.AuthModes = slices.Clone(c.AuthModes)
	out.Fields = slices.Clone(c.Fields)
	if c.OAuth != nil {
		o := *c.OAuth
		o.DefaultScopes = slices.Clone(o.DefaultScopes)
		o.Scopes = slices.Clone(o.Scopes)
		o.AuthParams = maps.Clone(o.AuthParams)
		out.OAuth = &o
	}
	out.API.Headers = maps.Clone(c.API.Headers)
	if c.Verify != nil {
		v := *c.Verify
		v.RequiredScopes = slices.Clone(v.RequiredScopes)
		out.Verify = &v
	}
	if c.Webhooks != nil {
		w := *c.Webhooks
		out.Webhooks = &w
	}
	return &out
}
