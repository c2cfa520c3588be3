package patchbay

import (
	"context"
	"strings"
)

// NewOrgResult is what creating an org with its first Administrator yields.
// Password and APIKey are the only copies of those secrets: they are shown
// once and never stored in clear.
type NewOrgResult struct {
	Org      *Org
	Admin    *User
	Password string
	Key      *APIKey
	APIKey   string
}

// CreateOrgWithAdmin creates an org, its Administrator user (with a
// generated password to change at first login) and an Administrator API
// key, in one transaction, and records them in the org's activity log.
func CreateOrgWithAdmin(ctx context.Context, store Store, orgName, adminEmail string) (*NewOrgResult, error) {
	res := &NewOrgResult{Org: &Org{Name: orgName}, Password: GeneratePassword()}
	res.Admin = &User{Email: adminEmail, Name: "Administrator", RoleID: RoleAdministrator, MustChangePassword: true}
	if err := res.Org.Validate(); err != nil {
		return nil, err
	}
	if err := res.Admin.Validate(); err != nil {
		return nil, err
	}
	res.Admin.PasswordHash = HashPassword(res.Password)
	secret, prefix, hash := GenerateAPIKey()
	res.APIKey = secret
	err := store.WithTx(ctx, func(tx Store) error {
		if err := tx.CreateOrg(ctx, res.Org); err != nil {
			return err
		}
		res.Admin.OrgID = res.Org.ID
		if err := tx.CreateUser(ctx, res.Admin); err != nil {
			return err
		}
		res.Key = &APIKey{OrgID: res.Org.ID, Name: "Admin key (created at set-up)", Prefix: prefix, Hash: hash,
			RoleID: RoleAdministrator, RateLimit: DefaultRateLimit, CreatedBy: ActorSystem + ":setup"}
		if err := tx.CreateAPIKey(ctx, res.Key); err != nil {
			return err
		}
		for _, a := range []*Activity{
			{Action: "org.create", TargetType: "org", TargetID: res.Org.ID, Detail: map[string]any{"name": res.Org.Name}},
			{Action: "user.create", TargetType: "user", TargetID: res.Admin.ID, Detail: map[string]any{"email": res.Admin.Email, "role_id": RoleAdministrator}},
			{Action: "api_key.create", TargetType: "api_key", TargetID: res.Key.ID, Detail: map[string]any{"prefix": prefix, "role_id": RoleAdministrator}},
		} {
			a.OrgID, a.ActorType, a.ActorID, a.ActorName, a.Outcome = res.Org.ID, ActorSystem, "setup", "Patchbay set-up", OutcomeSuccess
			if err := tx.RecordActivity(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Bootstrap sets up an empty database: the first org with its
// Administrator and API key. It returns ECONFLICT when the database was
// set up before, even by another replica starting at the same moment.
func Bootstrap(ctx context.Context, store Store, orgName, adminEmail string) (*NewOrgResult, error) {
	var res *NewOrgResult
	err := store.WithTx(ctx, func(tx Store) error {
		if n, err := tx.CountOrgs(ctx); err != nil {
			return err
		} else if n > 0 {
			return Errorf(ECONFLICT, "Patchbay is already initialized (%d orgs exist).", n)
		}
		if err := tx.MarkBootstrapped(ctx); err != nil {
			return err
		}
		var err error
		res, err = CreateOrgWithAdmin(ctx, tx, strings.TrimSpace(orgName), adminEmail)
		return err
	})
	return res, err
}
