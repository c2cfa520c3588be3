package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/patchbay/patchbay"
)

const userColumns = `id, org_id, email, name, role_id, password_hash, must_change_password,
	last_login_at, created_at, updated_at`

func scanUser(row scanner) (*patchbay.User, error) {
	var u patchbay.User
	var last sql.NullTime
	err := row.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.RoleID, &u.PasswordHash, &u.MustChangePassword,
		&last, &u.CreatedAt, &u.UpdatedAt)
	u.LastLoginAt = timePtr(last)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, err
}

// CreateUser implements patchbay.UserStore.
func (s *Store) CreateUser(ctx context.Context, u *patchbay.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.ID = patchbay.NewID("usr")
	u.CreatedAt = s.now()
	u.UpdatedAt = u.CreatedAt
	_, err := s.w.ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.OrgID, u.Email, u.Name, u.RoleID, u.PasswordHash, u.MustChangePassword,
		utc(u.LastLoginAt), u.CreatedAt, u.UpdatedAt)
	return s.conflict(err, "A user with e-mail %q already exists.", u.Email)
}

// FindUser implements patchbay.UserStore.
func (s *Store) FindUser(ctx context.Context, orgID, id string) (*patchbay.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, "User not found.")
	}
	return u, nil
}

// FindUserByEmail implements patchbay.UserStore.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*patchbay.User, error) {
	found, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`,
		patchbay.NormalizeEmail(email)))
	if err != nil {
		return nil, notFound(err, "User not found.")
	}
	return found, nil
}

// ListUsers implements patchbay.UserStore.
func (s *Store) ListUsers(ctx context.Context, orgID string, f patchbay.UserFilter) ([]*patchbay.User, string, error) {
	var q query
	q.sql.WriteString(`SELECT ` + userColumns + ` FROM users`)
	q.and("org_id = " + q.arg(orgID))
	tail, err := q.page(f.Page, "created_at")
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, q.String(tail), q.args...)
	users, err := collect(rows, err, func(r *sql.Rows) (*patchbay.User, error) { return scanUser(r) })
	if err != nil {
		return nil, "", err
	}
	users, next := nextCursor(users, f.Page, func(u *patchbay.User) (t time.Time, id string) { return u.CreatedAt, u.ID })
	return users, next, nil
}

// UpdateUser implements patchbay.UserStore.
func (s *Store) UpdateUser(ctx context.Context, u *patchbay.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.UpdatedAt = s.now()
	res, err := s.w.ExecContext(ctx, `UPDATE users SET name = $3, role_id = $4, password_hash = $5,
		must_change_password = $6, last_login_at = $7, updated_at = $8 WHERE org_id = $1 AND id = $2`,
		u.OrgID, u.ID, u.Name, u.RoleID, u.PasswordHash, u.MustChangePassword, utc(u.LastLoginAt), u.UpdatedAt)
	return mustAffect(res, err, "User not found.")
}

// DeleteUser implements patchbay.UserStore.
func (s *Store) DeleteUser(ctx context.Context, orgID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM users WHERE org_id = $1 AND id = $2`, orgID, id)
	return mustAffect(res, err, "User not found.")
}
