package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay/patchbay/client"
)

// This file holds the commands that talk to a running server through the
// public Go client.

// client returns a client for the configured server and key.
func (g *Globals) client() (*client.Client, error) {
	if g.APIKey == "" {
		return nil, errors.New("no API key: pass --api-key or set PATCHBAY_API_KEY")
	}
	base := g.URL
	if base == "" {
		base = g.publicURL(g.Addr)
	}
	return client.New(base, g.APIKey), nil
}

// print writes v as JSON when --json is set, and otherwise calls text.
func (g *Globals) print(v any, text func(w *tabwriter.Writer)) error {
	if g.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

type meCmd struct{}

func (meCmd) Run(ctx context.Context, g *Globals) error {
	c, err := g.client()
	if err != nil {
		return err
	}
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	return g.print(me, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Org:\t%s (%s)\nActor:\t%s %s (%s)\nRole:\t%s\nCapabilities:\t%s\n",
			me.OrgName, me.OrgID, me.ActorType, me.ActorName, me.ActorID, me.RoleID, strings.Join(me.Capabilities, ", "))
	})
}

type apiKeysCmd struct {
	List   apiKeysListCmd   `cmd:"" help:"List API keys (never their secrets)."`
	Create apiKeysCreateCmd `cmd:"" help:"Create an API key and print its secret once."`
	Revoke apiKeysRevokeCmd `cmd:"" help:"Revoke an API key, at once."`
}

type apiKeysListCmd struct {
	All bool `help:"Include revoked keys."`
}

func (c *apiKeysListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var keys []client.APIKey
	opt := client.ListAPIKeysOptions{IncludeRevoked: c.All}
	for {
		page, err := cl.ListAPIKeys(ctx, opt)
		if err != nil {
			return err
		}
		keys = append(keys, page.Data...)
		if page.NextCursor == "" {
			break
		}
		opt.Cursor = page.NextCursor
	}
	return g.print(keys, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tPREFIX\tNAME\tROLE\tCREATED\tLAST USED\tREVOKED")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Name, k.RoleID,
				when(&k.CreatedAt), when(k.LastUsedAt), when(k.RevokedAt))
		}
	})
}

type apiKeysCreateCmd struct {
	Name      string   `arg:"" help:"What the key is for."`
	Role      string   `help:"Role id (administrator, editor, viewer or a custom role's id); yours by default."`
	Scopes    []string `help:"Narrow the role to these capabilities."`
	RateLimit int      `name:"rate-limit" help:"Requests per minute."`
}

func (c *apiKeysCreateCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	k, err := cl.CreateAPIKey(ctx, client.CreateAPIKeyRequest{Name: c.Name, RoleID: c.Role, Scopes: c.Scopes, RateLimit: c.RateLimit})
	if err != nil {
		return err
	}
	return g.print(k, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Created API key %s (%s, role %s).\nKey:\t%s\nIt is shown once and cannot be shown again; store it now.\n",
			k.ID, k.Prefix, k.RoleID, k.Key)
	})
}

type apiKeysRevokeCmd struct {
	ID string `arg:"" help:"Id of the key to revoke."`
}

func (c *apiKeysRevokeCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	k, err := cl.RevokeAPIKey(ctx, c.ID)
	if err != nil {
		return err
	}
	return g.print(k, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Revoked API key %s (%s) at %s.\n", k.ID, k.Prefix, when(k.RevokedAt))
	})
}

type activityCmd struct {
	List activityListCmd `cmd:"" default:"withargs" help:"List activity, newest first."`
}

type activityListCmd struct {
	Actor  string    `help:"Actor id."`
	Action string    `help:"Action, exact or a prefix such as api_key.*."`
	Target string    `help:"Target id."`
	Since  time.Time `help:"Inclusive lower bound (RFC 3339)." format:"2006-01-02T15:04:05Z07:00"`
	Until  time.Time `help:"Exclusive upper bound (RFC 3339)." format:"2006-01-02T15:04:05Z07:00"`
	Limit  int       `default:"50" help:"Rows to show."`
}

func (c *activityListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	page, err := cl.ListActivity(ctx, client.ActivityQuery{Actor: c.Actor, Action: c.Action, TargetID: c.Target,
		Since: c.Since, Until: c.Until, Limit: c.Limit})
	if err != nil {
		return err
	}
	return g.print(page, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "TIME\tACTOR\tACTION\tTARGET\tOUTCOME")
		for _, a := range page.Data {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s:%s\t%s\n", when(&a.CreatedAt), a.ActorName, a.Action, a.TargetType, a.TargetID, a.Outcome)
		}
	})
}
