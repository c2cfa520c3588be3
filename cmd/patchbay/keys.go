package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/secret"
)

type keysCmd struct {
	Generate keysGenerateCmd `cmd:"" help:"Print a new key as id:base64, to put first in PATCHBAY_ENCRYPTION_KEYS."`
	Rotate   keysRotateCmd   `cmd:"" help:"Re-encrypt every stored secret under the current key, in batches; safe to stop and run again."`
}

type keysGenerateCmd struct {
	ID string `arg:"" help:"Key id (letters, digits, - and _), e.g. k2 or 2026-11."`
}

func (c *keysGenerateCmd) Run(g *Globals) error {
	spec := secret.NewKeySpec(c.ID)
	if _, err := secret.ParseRing(spec); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, spec)
	return nil
}

type keysRotateCmd struct {
	NewKey string `name:"new-key" help:"With the generated key file: add a new key with this id in front of it first."`
	Batch  int    `default:"500" help:"Values re-encrypted per batch."`
}

// Run re-seals every sealed value not under the ring's current key. Rows
// already under it are skipped, so a rotation that stopped (a crash, ^C)
// resumes where it was when run again.
func (c *keysRotateCmd) Run(ctx context.Context, g *Globals) error {
	logger := newLogger(g)
	if c.NewKey != "" {
		if g.Keys != "" {
			return errors.New("--new-key works on the generated key file; with PATCHBAY_ENCRYPTION_KEYS, put the new key first there")
		}
		if err := prependKey(filepath.Join(g.DataDir, "encryption.key"), c.NewKey); err != nil {
			return err
		}
	}
	ring, err := loadRing(g, logger)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, g, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	if c.Batch < 1 {
		c.Batch = 1
	}
	total := 0
	for _, col := range store.SealedColumns() {
		done := 0
		for {
			n, err := store.ResealBatch(ctx, col, ring.CurrentID(), c.Batch, func(rowKey, sealed string) (string, error) {
				plain, err := ring.Open(sealed, col.AssociatedData(rowKey))
				if err != nil {
					keyID, _ := secret.KeyID(sealed)
					return "", fmt.Errorf("cannot decrypt (sealed under key %q; is it still in the ring?)", keyID)
				}
				return ring.Seal(plain, col.AssociatedData(rowKey))
			})
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			done += n
			fmt.Fprintf(g.stdout, "%s.%s: %d re-encrypted so far\n", col.Table, col.Column, done)
		}
		total += done
	}
	fmt.Fprintf(g.stdout, "Done: %d secrets re-encrypted; every stored secret is under key %q.\n", total, ring.CurrentID())
	return nil
}

// prependKey adds a new key in front of the key file's ring.
func prependKey(path, id string) error {
	spec, _, err := secret.LoadOrCreateFile(path)
	if err != nil {
		return err
	}
	ring, err := secret.ParseRing(spec)
	if err != nil {
		return err
	}
	for _, have := range ring.IDs() {
		if have == id {
			return patchbay.Errorf(patchbay.ECONFLICT, "The key file already has a key %q.", id)
		}
	}
	next := secret.NewKeySpec(id) + "," + strings.TrimSpace(spec)
	if _, err := secret.ParseRing(next); err != nil {
		return err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(next+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

type oauthCmd struct {
	Set oauthSetCmd `cmd:"" help:"Set the platform-wide OAuth client of a connector (orgs without their own use it)."`
}

type oauthSetCmd struct {
	Connector    string `arg:"" help:"Connector slug."`
	ClientID     string `name:"client-id" required:"" help:"OAuth client id."`
	ClientSecret string `name:"client-secret" env:"PATCHBAY_OAUTH_CLIENT_SECRET" required:"" help:"OAuth client secret (prefer the environment variable: flags show in process lists)."`
}

func (c *oauthSetCmd) Run(ctx context.Context, g *Globals) error {
	m := &Main{Globals: g}
	if err := m.openPlane(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	cl, err := m.Connections.SetOAuthClient(ctx, "", c.Connector, c.ClientID, c.ClientSecret)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Platform-wide OAuth client for %s set (client id %s).\n", cl.ConnectorSlug, cl.ClientID)
	return nil
}
