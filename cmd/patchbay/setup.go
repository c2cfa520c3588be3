package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/patchbay/patchbay"
)

type initCmd struct {
	setupFlags
}

// Run sets up an empty database and prints the first credentials once.
func (c *initCmd) Run(ctx context.Context, g *Globals) error {
	logger := newLogger(g)
	store, err := openStore(ctx, g, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := loadRing(g, logger); err != nil {
		return err
	}
	res, err := patchbay.Bootstrap(ctx, store, c.OrgName, c.AdminEmail)
	if err != nil {
		return err
	}
	return g.printNewOrg(res)
}

type migrateCmd struct{}

func (migrateCmd) Run(ctx context.Context, g *Globals) error {
	store, err := openStore(ctx, g, newLogger(g))
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Database (%s) is up to date.\n", store.Dialect())
	return store.Close()
}

type orgCmd struct {
	Create orgCreateCmd `cmd:"" help:"Create an org with its Administrator and an admin API key, printed once."`
}

type orgCreateCmd struct {
	Name       string `arg:"" help:"Name of the org."`
	AdminEmail string `name:"admin-email" required:"" help:"E-mail address of the org's first Administrator."`
}

func (c *orgCreateCmd) Run(ctx context.Context, g *Globals) error {
	store, err := openStore(ctx, g, newLogger(g))
	if err != nil {
		return err
	}
	defer store.Close()
	res, err := patchbay.CreateOrgWithAdmin(ctx, store, c.Name, c.AdminEmail)
	if err != nil {
		return err
	}
	return g.printNewOrg(res)
}

// newOrgJSON is what init --json and org create --json print.
type newOrgJSON struct {
	OrgID         string `json:"org_id"`
	OrgName       string `json:"org_name"`
	AdminEmail    string `json:"admin_email"`
	AdminPassword string `json:"admin_password"`
	APIKeyID      string `json:"api_key_id"`
	APIKey        string `json:"api_key"`
	AdminURL      string `json:"admin_url"`
}

func (g *Globals) printNewOrg(res *patchbay.NewOrgResult) error {
	public := g.publicURL(g.Addr)
	if g.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(newOrgJSON{
			OrgID: res.Org.ID, OrgName: res.Org.Name, AdminEmail: res.Admin.Email, AdminPassword: res.Password,
			APIKeyID: res.Key.ID, APIKey: res.APIKey, AdminURL: public + "/",
		})
	}
	printCredentials(g.stdout, res, public)
	return nil
}

// printCredentials prints a new org's secrets for a person, once.
func printCredentials(w io.Writer, res *patchbay.NewOrgResult, public string) {
	fmt.Fprintf(w, `
Patchbay set up org %q (%s).
These credentials are shown once and cannot be shown again; store them now.

  Administrator:  %s
  Password:       %s   (to be changed at first login)
  Admin API key:  %s
  Admin URL:      %s/

`, res.Org.Name, res.Org.ID, res.Admin.Email, res.Password, res.APIKey, public)
}
