package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/patchbay/patchbay/client"
)

type connectorsCmd struct {
	Family   string `help:"Only this family."`
	AuthMode string `name:"auth-mode" help:"Only connectors offering this auth mode."`
	Q        string `arg:"" optional:"" help:"Free text."`
}

func (c *connectorsCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	list, err := cl.ListConnectors(ctx, client.ConnectorsQuery{Family: c.Family, AuthMode: c.AuthMode, Q: c.Q})
	if err != nil {
		return err
	}
	return g.print(list, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "SLUG\tNAME\tFAMILY\tAUTH MODES")
		for _, cn := range list.Data {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", cn.Slug, cn.Name, cn.Family, strings.Join(cn.AuthModes, ", "))
		}
	})
}

type connectionsCmd struct {
	List       connectionsListCmd  `cmd:"" default:"withargs" help:"List connections."`
	Show       connectionActionCmd `cmd:"" help:"Show a connection."`
	Test       connectionActionCmd `cmd:"" help:"Test a connection (changes nothing at the vendor)."`
	Pause      connectionActionCmd `cmd:"" help:"Pause a connection."`
	Resume     connectionActionCmd `cmd:"" help:"Test and resume a paused connection."`
	Refresh    connectionActionCmd `cmd:"" help:"Refresh a connection's credential now."`
	Disconnect connectionActionCmd `cmd:"" help:"Revoke at the vendor and remove the credential."`
	Proxy      connectionProxyCmd  `cmd:"" help:"Call the vendor's API through a connection; the answer's body goes to stdout."`
}

type connectionsListCmd struct {
	State     string `help:"Only this state."`
	Connector string `help:"Only this connector."`
	Family    string `help:"Only this family."`
	Q         string `arg:"" optional:"" help:"Free text on name, connector and account."`
}

func (c *connectionsListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	q := client.ConnectionsQuery{State: c.State, Connector: c.Connector, Family: c.Family, Q: c.Q}
	var all []client.Connection
	for {
		page, err := cl.ListConnections(ctx, q)
		if err != nil {
			return err
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	return g.print(all, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tCONNECTOR\tNAME\tSTATE\tHEALTH\tACCOUNT\tSCOPES")
		for _, c := range all {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Connector, c.DisplayName, c.State, c.Health,
				c.VendorAccountID, strings.Join(c.Scopes, " "))
		}
	})
}

type connectionActionCmd struct {
	ID string `arg:"" help:"Connection id."`
}

// Run performs the subcommand the user named (show, test, pause, resume,
// refresh or disconnect).
func (c *connectionActionCmd) Run(ctx context.Context, g *Globals, action actionName) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var res *client.ConnectionResult
	switch action {
	case "show":
		var conn *client.Connection
		if conn, err = cl.GetConnection(ctx, c.ID); err == nil {
			res = &client.ConnectionResult{Connection: *conn}
		}
	case "disconnect":
		res, err = cl.Disconnect(ctx, c.ID)
	default:
		res, err = cl.ConnectionAction(ctx, c.ID, string(action))
	}
	if err != nil {
		return err
	}
	return g.print(res, func(w *tabwriter.Writer) {
		conn := res.Connection
		fmt.Fprintf(w, "Connection:\t%s (%s, %s)\nState:\t%s, %s\nAccount:\t%s %s\nScopes:\t%s\n", conn.ID, conn.DisplayName,
			conn.Connector, conn.State, conn.Health, conn.VendorAccountID, conn.VendorAccountName, strings.Join(conn.Scopes, " "))
		if res.Test != nil {
			fmt.Fprintf(w, "Test:\t%s: %s\n", res.Test.Outcome, res.Test.Detail)
		}
		if res.Revocation != "" {
			fmt.Fprintf(w, "Revocation:\t%s\n", res.Revocation)
		}
	})
}

// actionName is the name of the connections subcommand being run.
type actionName string
