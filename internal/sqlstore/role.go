package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/patchbay/patchbay"
)

const roleColumns = `id, org_id, name, description, capabilities, created_at, updated_at`

func scanRole(row scanner) (*patchbay.Role, error) {
	var r patchbay.Role
	var caps string
	if err := row.Scan(&r.ID, &r.OrgID, &r.Name, &r.Description, &caps, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(caps), &r.Capabilities); err != nil {
		return nil, fmt.Errorf("role %s capabilities: %w", r.ID, err)
	}
	return &r, nil
}

// marshalJSON encodes v for a JSON column; nil slices become "[]".
func marshalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with plain data
	}
	if string(b) == "null" {
		return "[]"
	}
	return string(b)
}

// CreateRole implements patchbay.RoleStore.
func (s *Store) CreateRole(ctx context.Context, r *patchbay.Role) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.ID = patchbay.NewID("role")
	r.CreatedAt = s.now()
	r.UpdatedAt = r.CreatedAt
	_, err := s.w.ExecContext(ctx, `INSERT INTO roles (`+roleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.OrgID, r.Name, r.Description, marshalJSON(r.Capabilities), r.CreatedAt, r.UpdatedAt)
	return s.conflict(err, "A role named %q already exists.", r.Name)
}

// FindRole implements patchbay.RoleStore.
func (s *Store) FindRole(ctx context.Context, orgID, id string) (*patchbay.Role, error) {
	r, err := scanRole(s.r.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "Role not found.")
	}
	return r, nil
}

// ListRoles implements patchbay.RoleStore.
func (s *Store) ListRoles(ctx context.Context, orgID string) ([]*patchbay.Role, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+roleColumns+` FROM roles WHERE org_id = $1 ORDER BY lower(name), id`, orgID)
	return collect(rows, err, func(r *sql.Rows) (*patchbay.Role, error) { return scanRole(r) })
}

// UpdateRole implements patchbay.RoleStore.
func (s *Store) UpdateRole(ctx context.Context, r *patchbay.Role) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.UpdatedAt = s.now()
	res, err := s.w.ExecContext(ctx, `UPDATE roles SET name = $3, description = $4, capabilities = $5, updated_at = $6
		WHERE org_id = $1 AND id = $2`, r.OrgID, r.ID, r.Name, r.Description, marshalJSON(r.Capabilities), r.UpdatedAt)
	if err = s.conflict(err, "A role named %q already exists.", r.Name); err != nil {
		return err
	}
	return mustAffect(res, nil, "Role not found.")
}

// DeleteRole implements patchbay.RoleStore.
func (s *Store) DeleteRole(ctx context.Context, orgID, id string) error {
	return s.inTx(ctx, func(t *Store) error {
		var holders int
		err := t.r.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM users WHERE org_id = $1 AND role_id = $2) +
			(SELECT COUNT(*) FROM api_keys WHERE org_id = $1 AND role_id = $2 AND revoked_at IS NULL)`,
			orgID, id).Scan(&holders)
		if err != nil {
			return err
		} else if holders > 0 {
			return patchbay.Errorf(patchbay.ECONFLICT, "Role is held by %d users or API keys; move them to another role first.", holders)
		}
		res, err := t.w.ExecContext(ctx, `DELETE FROM roles WHERE org_id = $1 AND id = $2`, orgID, id)
		return mustAffect(res, err, "Role not found.")
	})
}
