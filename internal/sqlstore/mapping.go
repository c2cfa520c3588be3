package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/patchbay/patchbay"
)

const mappingColumns = `id, org_id, connection_id, external_id, internal_type, internal_id, created_at, updated_at`

func scanMapping(row scanner) (*patchbay.Mapping, error) {
	var m patchbay.Mapping
	err := row.Scan(&m.ID, &m.OrgID, &m.ConnectionID, &m.ExternalID, &m.InternalType, &m.InternalID, &m.CreatedAt, &m.UpdatedAt)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	return &m, err
}

// CreateMapping implements patchbay.MappingStore. The connection must be
// one of the org's.
func (s *Store) CreateMapping(ctx context.Context, m *patchbay.Mapping) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(t *Store) error {
		if _, err := t.FindConnection(ctx, m.OrgID, m.ConnectionID); err != nil {
			return err
		}
		m.ID = patchbay.NewID("map")
		m.CreatedAt = t.now()
		m.UpdatedAt = m.CreatedAt
		_, err := t.w.ExecContext(ctx, `INSERT INTO mappings (`+mappingColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			m.ID, m.OrgID, m.ConnectionID, m.ExternalID, m.InternalType, m.InternalID, m.CreatedAt, m.UpdatedAt)
		return t.conflict(err, "The connection already maps external id %q or %s %q.", m.ExternalID, m.InternalType, m.InternalID)
	})
}

// FindMapping implements patchbay.MappingStore.
func (s *Store) FindMapping(ctx context.Context, orgID, id string) (*patchbay.Mapping, error) {
	m, err := scanMapping(s.r.QueryRowContext(ctx, `SELECT `+mappingColumns+` FROM mappings WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Mapping not found.")
	}
	return m, nil
}

// ListMappings implements patchbay.MappingStore.
func (s *Store) ListMappings(ctx context.Context, orgID string, f patchbay.MappingFilter) ([]*patchbay.Mapping, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + mappingColumns + ` FROM mappings`)
	q.and("org_id = " + q.arg(orgID))
	for col, v := range map[string]string{"connection_id": f.ConnectionID, "external_id": f.ExternalID,
		"internal_type": f.InternalType, "internal_id": f.InternalID} {
		if v != "" {
			q.and(col + " = " + q.arg(v))
		}
	}
	tail, err := q.page(f.Page, "created_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	list, err := collect(rows, err, func(r *sql.Rows) (*patchbay.Mapping, error) { return scanMapping(r) })
	if err != nil {
		return nil, "", err
	}
	list, next := nextCursor(list, f.Page, func(m *patchbay.Mapping) (time.Time, string) { return m.CreatedAt, m.ID })
	return list, next, nil
}

// DeleteMapping implements patchbay.MappingStore.
func (s *Store) DeleteMapping(ctx context.Context, orgID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM mappings WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(res, err, "Mapping not found.")
}
