package storetest

import (
	"context"
	"testing"

	"github.com/patchbay/patchbay"
)

var mappingTests = []testCase{
	{"BothWays", testMappingsBothWays},
	{"Unique", testMappingsUnique},
	{"OrgIsolation", testMappingsOrgIsolation},
}

func (e *env) mapping(t *testing.T, orgID, connID, ext, typ, id string) (*patchbay.Mapping, error) {
	t.Helper()
	m := &patchbay.Mapping{OrgID: orgID, ConnectionID: connID, ExternalID: ext, InternalType: typ, InternalID: id}
	return m, e.s.CreateMapping(context.Background(), m)
}

func (e *env) mappings(t *testing.T, orgID string, f patchbay.MappingFilter) []*patchbay.Mapping {
	t.Helper()
	list, _, err := e.s.ListMappings(context.Background(), orgID, f)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func testMappingsBothWays(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	m, err := e.mapping(t, org.ID, c.ID, " hs-42 ", "contact", "usr_7")
	if err != nil {
		t.Fatal(err)
	}
	if m.ExternalID != "hs-42" || m.ID == "" || !m.CreatedAt.Equal(e.now()) {
		t.Fatalf("created %+v", m)
	}
	if _, err := e.mapping(t, org.ID, c.ID, "hs-43", "contact", "usr_8"); err != nil {
		t.Fatal(err)
	}
	byExt := e.mappings(t, org.ID, patchbay.MappingFilter{ConnectionID: c.ID, ExternalID: "hs-42"})
	byInt := e.mappings(t, org.ID, patchbay.MappingFilter{ConnectionID: c.ID, InternalType: "contact", InternalID: "usr_7"})
	if len(byExt) != 1 || len(byInt) != 1 || byExt[0].ID != m.ID || byInt[0].ID != m.ID {
		t.Fatalf("lookups: by external %v, by internal %v", byExt, byInt)
	}
	if all := e.mappings(t, org.ID, patchbay.MappingFilter{ConnectionID: c.ID}); len(all) != 2 {
		t.Fatalf("%d mappings, want 2", len(all))
	}
	found, err := e.s.FindMapping(context.Background(), org.ID, m.ID)
	if err != nil || found.InternalID != "usr_7" || found.ConnectionID != c.ID {
		t.Fatalf("find: %+v %v", found, err)
	}
	if err := e.s.DeleteMapping(context.Background(), org.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.FindMapping(context.Background(), org.ID, m.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Fatalf("after delete: %v", err)
	}
}

func testMappingsUnique(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	c := e.connection(t, org.ID, "hubspot", "CRM")
	other := e.connection(t, org.ID, "salesforce", "CRM 2")
	if _, err := e.mapping(t, org.ID, c.ID, "x-1", "contact", "1"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string][4]string{
		"same external id":     {c.ID, "x-1", "contact", "2"},
		"same internal record": {c.ID, "x-2", "contact", "1"},
	} {
		if _, err := e.mapping(t, org.ID, tc[0], tc[1], tc[2], tc[3]); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
			t.Errorf("%s: %v, want ECONFLICT", name, err)
		}
	}
	// Unique per connection: another connection may map the same ids.
	if _, err := e.mapping(t, org.ID, other.ID, "x-1", "contact", "1"); err != nil {
		t.Fatalf("another connection: %v", err)
	}
	for name, tc := range map[string][4]string{
		"no external id":   {c.ID, " ", "contact", "3"},
		"no internal type": {c.ID, "x-3", "", "3"},
		"no connection":    {"", "x-3", "contact", "3"},
	} {
		if _, err := e.mapping(t, org.ID, tc[0], tc[1], tc[2], tc[3]); patchbay.ErrorCode(err) != patchbay.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func testMappingsOrgIsolation(t *testing.T, e *env) {
	a, b := e.org(t, "A"), e.org(t, "B")
	ca := e.connection(t, a.ID, "hubspot", "CRM")
	m, err := e.mapping(t, a.ID, ca.ID, "x-1", "contact", "1")
	if err != nil {
		t.Fatal(err)
	}
	// Another org can neither map over the first org's connection nor see,
	// find or delete its mappings.
	if _, err := e.mapping(t, b.ID, ca.ID, "x-9", "contact", "9"); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("mapping over another org's connection: %v", err)
	}
	if list := e.mappings(t, b.ID, patchbay.MappingFilter{ExternalID: "x-1"}); len(list) != 0 {
		t.Errorf("org B sees %d of org A's mappings", len(list))
	}
	if _, err := e.s.FindMapping(context.Background(), b.ID, m.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("find across orgs: %v", err)
	}
	if err := e.s.DeleteMapping(context.Background(), b.ID, m.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("delete across orgs: %v", err)
	}
	if _, err := e.s.FindMapping(context.Background(), a.ID, m.ID); err != nil {
		t.Errorf("org A's mapping after org B's delete: %v", err)
	}
}
