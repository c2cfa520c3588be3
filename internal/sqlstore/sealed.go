package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/patchbay/patchbay"
)

// sealedColumns lists every column holding sealed values. A migration that
// adds one adds it here too; the storetest suite checks each of them is
// re-sealed by a rotation.
var sealedColumns = []patchbay.SealedColumn{
	{Table: "connections", Column: "credential", Key: "id"},
	{Table: "connections", Column: "refresh_token", Key: "id"},
	{Table: "oauth_clients", Column: "client_secret", Key: "id"},
	{Table: "oauth_states", Column: "code_verifier", Key: "state"},
	{Table: "endpoints", Column: "secret", Key: "id"},
	{Table: "endpoints", Column: "previous_secret", Key: "id"},
	{Table: "inbound_routes", Column: "secret", Key: "token_hash"},
	{Table: "idempotency_keys", Column: "response_body", Key: "id"},
	{Table: "proxy_cache", Column: "body", Key: "id"},
}

// SealedColumns implements patchbay.SealedStore.
func (s *Store) SealedColumns() []patchbay.SealedColumn { return sealedColumns }

// ResealBatch implements patchbay.SealedStore. Each row is updated only if
// its value is still the one read, so a write racing the rotation wins.
func (s *Store) ResealBatch(ctx context.Context, col patchbay.SealedColumn, currentKeyID string, limit int,
	reseal func(rowKey, sealed string) (string, error)) (int, error) {
	known := false
	for _, c := range sealedColumns {
		known = known || c == col
	}
	if !known {
		return 0, fmt.Errorf("not a sealed column: %s.%s", col.Table, col.Column)
	}
	prefix := "pbs1:" + currentKeyID + ":"
	// Table and column names come from sealedColumns, never from input.
	rows, err := s.w.QueryContext(ctx, fmt.Sprintf(`SELECT %[1]s, %[2]s FROM %[3]s
		WHERE %[2]s <> '' AND substr(%[2]s, 1, $1) <> $2 ORDER BY %[1]s LIMIT $3`, col.Key, col.Column, col.Table),
		len(prefix), prefix, limit)
	type row struct{ key, value string }
	batch, err := collect(rows, err, func(r *sql.Rows) (row, error) {
		var v row
		return v, r.Scan(&v.key, &v.value)
	})
	if err != nil {
		return 0, err
	}
	for _, r := range batch {
		fresh, err := reseal(r.key, r.value)
		if err != nil {
			return 0, fmt.Errorf("%s.%s of %s: %w", col.Table, col.Column, r.key, err)
		}
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`UPDATE %[3]s SET %[2]s = $1 WHERE %[1]s = $2 AND %[2]s = $3`,
			col.Key, col.Column, col.Table), fresh, r.key, r.value); err != nil {
			return 0, err
		}
	}
	return len(batch), nil
}
