package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/patchbay/patchbay"
)

var txTests = []testCase{
	{"RollbackOnError", testTxRollbackOnError},
	{"CommitOnNil", testTxCommitOnNil},
	{"StoreErrorRollsBack", testTxStoreErrorRollsBack},
	{"Uncommitted", testTxUncommitted},
	{"NestedJoins", testTxNestedJoins},
	{"DeleteRoleInside", testTxDeleteRoleInside},
	{"Concurrent", testTxConcurrent},
}

var errBoom = errors.New("boom")

// written is what writeAll made inside a transaction.
type written struct {
	org   *patchbay.Org
	user  *patchbay.User
	role  *patchbay.Role
	key   *patchbay.APIKey
	entry *patchbay.Activity
}

// writeAll writes one row of every kind through tx, marks the database
// bootstrapped, and checks that tx reads its own writes.
func writeAll(t *testing.T, e *env, tx patchbay.Store) (*written, error) {
	t.Helper()
	w := &written{org: &patchbay.Org{Name: "Acme"}}
	if err := tx.CreateOrg(e.ctx, w.org); err != nil {
		return nil, err
	}
	w.user = &patchbay.User{OrgID: w.org.ID, Email: "alice@example.com", RoleID: patchbay.RoleAdministrator, PasswordHash: "h"}
	if err := tx.CreateUser(e.ctx, w.user); err != nil {
		return nil, err
	}
	w.role = &patchbay.Role{OrgID: w.org.ID, Name: "Support"}
	if err := tx.CreateRole(e.ctx, w.role); err != nil {
		return nil, err
	}
	w.key, _ = newAPIKey(w.org.ID, "bot")
	if err := tx.CreateAPIKey(e.ctx, w.key); err != nil {
		return nil, err
	}
	w.entry = patchbay.NewActivity(e.ctx, "org.create", "org", w.org.ID, patchbay.OutcomeSuccess)
	w.entry.OrgID = w.org.ID
	if err := tx.RecordActivity(e.ctx, w.entry); err != nil {
		return nil, err
	}
	if err := tx.MarkBootstrapped(e.ctx); err != nil {
		return nil, err
	}
	// The transaction sees its own writes.
	if _, err := tx.FindUser(e.ctx, w.org.ID, w.user.ID); err != nil {
		return nil, fmt.Errorf("FindUser inside the transaction: %w", err)
	}
	if n, err := tx.CountOrgs(e.ctx); err != nil {
		return nil, fmt.Errorf("CountOrgs inside the transaction: %w", err)
	} else if n != 1 {
		return nil, fmt.Errorf("CountOrgs inside the transaction = %d, want 1", n)
	}
	return w, nil
}

// wantGone checks that nothing writeAll made is stored.
func wantGone(t *testing.T, e *env, w *written) {
	t.Helper()
	n, err := e.s.CountOrgs(e.ctx)
	must(t, err, "CountOrgs")
	if n != 0 {
		t.Errorf("CountOrgs after rollback = %d, want 0", n)
	}
	_, err = e.s.FindOrg(e.ctx, w.org.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindOrg after rollback")
	_, err = e.s.FindUser(e.ctx, w.org.ID, w.user.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUser after rollback")
	_, err = e.s.FindUserByEmail(e.ctx, w.user.Email)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUserByEmail after rollback")
	_, err = e.s.FindRole(e.ctx, w.org.ID, w.role.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindRole after rollback")
	_, err = e.s.FindAPIKeyByPrefix(e.ctx, w.key.Prefix)
	wantCode(t, err, patchbay.ENOTFOUND, "FindAPIKeyByPrefix after rollback")
	list, _, err := e.s.ListActivity(e.ctx, w.org.ID, patchbay.ActivityFilter{})
	must(t, err, "ListActivity")
	if len(list) != 0 {
		t.Errorf("ListActivity after rollback has %d entries, want 0", len(list))
	}
	// Not bootstrapped either: the first real bootstrap succeeds.
	must(t, e.s.MarkBootstrapped(e.ctx), "MarkBootstrapped after rollback")
}

// wantKept checks that everything writeAll made is stored.
func wantKept(t *testing.T, e *env, w *written) {
	t.Helper()
	got, err := e.s.FindOrg(e.ctx, w.org.ID)
	must(t, err, "FindOrg after commit")
	wantTime(t, "committed org CreatedAt", got.CreatedAt, w.org.CreatedAt)
	u, err := e.s.FindUser(e.ctx, w.org.ID, w.user.ID)
	must(t, err, "FindUser after commit")
	wantUser(t, "committed user", u, w.user)
	r, err := e.s.FindRole(e.ctx, w.org.ID, w.role.ID)
	must(t, err, "FindRole after commit")
	wantRole(t, "committed role", r, w.role)
	k, err := e.s.FindAPIKey(e.ctx, w.org.ID, w.key.ID)
	must(t, err, "FindAPIKey after commit")
	wantAPIKey(t, "committed key", k, w.key)
	list, _, err := e.s.ListActivity(e.ctx, w.org.ID, patchbay.ActivityFilter{})
	must(t, err, "ListActivity")
	wantIDs(t, "committed activity", ids(list, activityID), []string{w.entry.ID})
	wantCode(t, e.s.MarkBootstrapped(e.ctx), patchbay.ECONFLICT, "MarkBootstrapped after committed bootstrap")
}

func testTxRollbackOnError(t *testing.T, e *env) {
	var w *written
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		var err error
		if w, err = writeAll(t, e, tx); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	if w == nil {
		t.Fatalf("writes inside the transaction: %v", err)
	} else if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want fn's error", err)
	}
	wantGone(t, e, w)
}

func testTxCommitOnNil(t *testing.T, e *env) {
	var w *written
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		var err error
		w, err = writeAll(t, e, tx)
		return err
	})
	must(t, err, "WithTx")
	wantKept(t, e, w)
}

// testTxStoreErrorRollsBack returns a store error out of the transaction:
// its code reaches the caller and the earlier writes are undone.
func testTxStoreErrorRollsBack(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var first *patchbay.User
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		first = &patchbay.User{OrgID: org.ID, Email: "alice@example.com", RoleID: patchbay.RoleViewer, PasswordHash: "h"}
		if err := tx.CreateUser(e.ctx, first); err != nil {
			return err
		}
		dup := &patchbay.User{OrgID: org.ID, Email: "ALICE@example.com", RoleID: patchbay.RoleViewer, PasswordHash: "h"}
		return tx.CreateUser(e.ctx, dup)
	})
	wantCode(t, err, patchbay.ECONFLICT, "WithTx ending in a duplicate")
	_, err = e.s.FindUser(e.ctx, org.ID, first.ID)
	wantCode(t, err, patchbay.ENOTFOUND, "FindUser after rollback")
	// The store is usable afterwards.
	e.user(t, org.ID, "alice@example.com")
}

// testTxUncommitted checks that a transaction's writes are invisible
// outside it until it commits.
func testTxUncommitted(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	var u *patchbay.User
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		u = &patchbay.User{OrgID: org.ID, Email: "alice@example.com", RoleID: patchbay.RoleViewer, PasswordHash: "h"}
		if err := tx.CreateUser(e.ctx, u); err != nil {
			return err
		}
		if _, err := e.s.FindUser(e.ctx, org.ID, u.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			t.Errorf("FindUser outside the open transaction = %v, want ENOTFOUND", err)
		}
		return nil
	})
	must(t, err, "WithTx")
	_, err = e.s.FindUser(e.ctx, org.ID, u.ID)
	must(t, err, "FindUser after commit")
}

func testTxNestedJoins(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	newUser := func(email string) *patchbay.User {
		return &patchbay.User{OrgID: org.ID, Email: email, RoleID: patchbay.RoleViewer, PasswordHash: "h"}
	}
	outer, inner := newUser("outer@example.com"), newUser("inner@example.com")

	// The inner call joins the outer transaction: it sees the outer's
	// writes, and the outer's failure undoes the inner's writes although
	// the inner call succeeded.
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if err := tx.CreateUser(e.ctx, outer); err != nil {
			return err
		}
		err := tx.WithTx(e.ctx, func(tx2 patchbay.Store) error {
			if _, err := tx2.FindUser(e.ctx, org.ID, outer.ID); err != nil {
				return fmt.Errorf("inner transaction cannot see the outer's write: %w", err)
			}
			return tx2.CreateUser(e.ctx, inner)
		})
		if err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want %v", err, errBoom)
	}
	for _, u := range []*patchbay.User{outer, inner} {
		_, err := e.s.FindUser(e.ctx, org.ID, u.ID)
		wantCode(t, err, patchbay.ENOTFOUND, "FindUser("+u.Email+") after the outer rolled back")
	}

	// An inner error returned through the outer rolls both back.
	outer, inner = newUser("outer@example.com"), newUser("inner@example.com")
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if err := tx.CreateUser(e.ctx, outer); err != nil {
			return err
		}
		return tx.WithTx(e.ctx, func(tx2 patchbay.Store) error {
			if err := tx2.CreateUser(e.ctx, inner); err != nil {
				return err
			}
			return errBoom
		})
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want %v", err, errBoom)
	}
	for _, u := range []*patchbay.User{outer, inner} {
		_, err := e.s.FindUser(e.ctx, org.ID, u.ID)
		wantCode(t, err, patchbay.ENOTFOUND, "FindUser("+u.Email+") after the inner failed")
	}

	// Both succeed: both commit.
	outer, inner = newUser("outer@example.com"), newUser("inner@example.com")
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if err := tx.CreateUser(e.ctx, outer); err != nil {
			return err
		}
		return tx.WithTx(e.ctx, func(tx2 patchbay.Store) error { return tx2.CreateUser(e.ctx, inner) })
	})
	must(t, err, "nested WithTx")
	for _, u := range []*patchbay.User{outer, inner} {
		_, err := e.s.FindUser(e.ctx, org.ID, u.ID)
		must(t, err, "FindUser("+u.Email+") after commit")
	}
}

// testTxDeleteRoleInside calls DeleteRole, which runs its own transaction,
// inside WithTx: it must join (on SQLite a second transaction would wait
// forever for the one write connection) and roll back with the outer one.
func testTxDeleteRoleInside(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	r := e.role(t, org.ID, "Support")
	err := e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
		if err := tx.DeleteRole(e.ctx, org.ID, r.ID); err != nil {
			return err
		}
		if _, err := tx.FindRole(e.ctx, org.ID, r.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
			t.Errorf("FindRole inside the transaction after DeleteRole = %v, want ENOTFOUND", err)
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("WithTx = %v, want %v", err, errBoom)
	}
	_, err = e.s.FindRole(e.ctx, org.ID, r.ID)
	must(t, err, "FindRole after the delete rolled back")

	// A refused delete inside a transaction reports ECONFLICT.
	u := e.user(t, org.ID, "alice@example.com")
	u.RoleID = r.ID
	must(t, e.s.UpdateUser(e.ctx, u), "UpdateUser")
	err = e.s.WithTx(e.ctx, func(tx patchbay.Store) error { return tx.DeleteRole(e.ctx, org.ID, r.ID) })
	wantCode(t, err, patchbay.ECONFLICT, "DeleteRole of a held role inside WithTx")
}

// testTxConcurrent runs transactions at once; all must commit.
func testTxConcurrent(t *testing.T, e *env) {
	org := e.org(t, "Acme")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = e.s.WithTx(e.ctx, func(tx patchbay.Store) error {
				u := &patchbay.User{OrgID: org.ID, Email: fmt.Sprintf("u%d@example.com", i), RoleID: patchbay.RoleViewer, PasswordHash: "h"}
				if err := tx.CreateUser(e.ctx, u); err != nil {
					return err
				}
				a := patchbay.NewActivity(e.ctx, "user.create", "user", u.ID, patchbay.OutcomeSuccess)
				a.OrgID = org.ID
				return tx.RecordActivity(e.ctx, a)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err, fmt.Sprintf("concurrent WithTx %d", i))
	}
	users, _, err := e.s.ListUsers(e.ctx, org.ID, patchbay.UserFilter{})
	must(t, err, "ListUsers")
	entries, _, err := e.s.ListActivity(e.ctx, org.ID, patchbay.ActivityFilter{Action: "user.*"})
	must(t, err, "ListActivity")
	if len(users) != n || len(entries) != n {
		t.Errorf("after %d concurrent transactions: %d users, %d activity entries", n, len(users), len(entries))
	}
}
