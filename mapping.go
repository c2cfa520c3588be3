package patchbay

import (
	"context"
	"strings"
	"time"
)

// Mapping pairs a vendor's id for a record (ExternalID) with the host
// platform's (InternalType, InternalID), per connection. Both sides are
// unique within a connection, so a mapping is found either way.
type Mapping struct {
	ID           string
	OrgID        string
	ConnectionID string
	ExternalID   string
	InternalType string // e.g. "contact", "invoice"
	InternalID   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Validate trims and checks a mapping's fields.
func (m *Mapping) Validate() error {
	m.ExternalID, m.InternalType, m.InternalID = strings.TrimSpace(m.ExternalID), strings.TrimSpace(m.InternalType), strings.TrimSpace(m.InternalID)
	switch {
	case m.ConnectionID == "":
		return Errorf(EINVALID, "connection_id is required.")
	case m.ExternalID == "" || len(m.ExternalID) > 500:
		return Errorf(EINVALID, "external_id is required (at most 500 characters).")
	case m.InternalType == "" || len(m.InternalType) > 100:
		return Errorf(EINVALID, "internal_type is required (at most 100 characters).")
	case m.InternalID == "" || len(m.InternalID) > 500:
		return Errorf(EINVALID, "internal_id is required (at most 500 characters).")
	}
	return nil
}

// MappingFilter selects an org's mappings. ExternalID, or InternalType and
// InternalID, look one mapping up from either side.
type MappingFilter struct {
	ConnectionID string
	ExternalID   string
	InternalType string
	InternalID   string
	Page
}

// MappingStore stores external-id mappings.
type MappingStore interface {
	// CreateMapping stores m; ECONFLICT when the connection already maps
	// the external id, or the internal record, to something else.
	CreateMapping(ctx context.Context, m *Mapping) error
	// FindMapping returns a mapping of the org or ENOTFOUND.
	FindMapping(ctx context.Context, orgID, id string) (*Mapping, error)
	// ListMappings returns a page of the org's mappings, newest first.
	ListMappings(ctx context.Context, orgID string, f MappingFilter) ([]*Mapping, string, error)
	// DeleteMapping removes a mapping of the org.
	DeleteMapping(ctx context.Context, orgID, id string) error
}
