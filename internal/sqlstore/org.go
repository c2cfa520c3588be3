package sqlstore

import (
	"context"

	"github.com/patchbay/patchbay"
)

// CreateOrg implements patchbay.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *patchbay.Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.ID = patchbay.NewID("org")
	o.CreatedAt = s.now()
	o.UpdatedAt = o.CreatedAt
	_, err := s.w.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
		o.ID, o.Name, o.CreatedAt, o.UpdatedAt)
	return err
}

// FindOrg implements patchbay.OrgStore.
func (s *Store) FindOrg(ctx context.Context, id string) (*patchbay.Org, error) {
	var o patchbay.Org
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at, updated_at FROM orgs WHERE id = $1`, id).
		Scan(&o.ID, &o.Name, &o.CreatedAt, &o.UpdatedAt)
	if err != nil {
		return nil, notFound(err, "Org not found.")
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

// CountOrgs implements patchbay.OrgStore.
func (s *Store) CountOrgs(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs`).Scan(&n)
	return n, err
}

// MarkBootstrapped implements patchbay.OrgStore.
func (s *Store) MarkBootstrapped(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ('bootstrapped', 'true', $1)`, s.now())
	return s.conflict(err, "Patchbay is already initialized.")
}
