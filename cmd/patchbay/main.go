// Command patchbay runs Patchbay and administers it.
//
//	patchbay serve                 run the server (SQLite in ./patchbay-data by default)
//	patchbay init --json           set up an empty database and print the first credentials
//	patchbay migrate               apply database migrations
//	patchbay api-keys list         talk to a running server through the Go client
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/patchbay/patchbay"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli is the command line. Every flag has a PATCHBAY_* environment variable.
type cli struct {
	Globals

	Serve       serveCmd       `cmd:"" help:"Run the Patchbay server (migrates, and sets up an empty database)."`
	Init        initCmd        `cmd:"" help:"Set up an empty database: first org, its Administrator and an admin API key, printed once."`
	Migrate     migrateCmd     `cmd:"" help:"Apply pending database migrations."`
	Org         orgCmd         `cmd:"" help:"Create orgs directly in the database."`
	Me          meCmd          `cmd:"" help:"Describe the API key in use (remote)."`
	APIKeys     apiKeysCmd     `cmd:"" name:"api-keys" help:"Create, list and revoke API keys (remote)."`
	Activity    activityCmd    `cmd:"" help:"Read the activity log (remote)."`
	Connectors  connectorsCmd  `cmd:"" help:"Browse the connector library (remote)."`
	Connections connectionsCmd `cmd:"" help:"List, test, pause, resume, refresh and disconnect connections (remote)."`
	Endpoints   endpointsCmd   `cmd:"" help:"List, create, rotate and delete webhook endpoints (remote)."`
	Events      eventsCmd      `cmd:"" help:"Publish events (remote)."`
	Deliveries  deliveriesCmd  `cmd:"" help:"Search the delivery log and retry deliveries (remote)."`
	Requests    requestsCmd    `cmd:"" help:"Search the request log of vendor API calls (remote)."`
	Syncs       syncsCmd       `cmd:"" help:"Sync runs, schedules, pulls and failed syncs (remote)."`
	Keys        keysCmd        `cmd:"" help:"Generate encryption keys and re-encrypt stored secrets under the current key."`
	OAuth       oauthCmd       `cmd:"" name:"oauth-client" help:"Set platform-wide OAuth clients directly in the database."`
	Bench       benchCmd       `cmd:"" help:"Load tools: a verifying webhook receiver, the delivery benchmark and the crash test."`
	Version     versionCmd     `cmd:"" help:"Print the version."`
}

// Globals are the flags every command accepts.
type Globals struct {
	Addr            string        `env:"PATCHBAY_ADDR" default:"127.0.0.1:8080" help:"Address to listen on (host:port; port 0 picks a free one)."`
	DataDir         string        `env:"PATCHBAY_DATA_DIR" default:"patchbay-data" type:"path" help:"Directory for the SQLite database and the generated encryption key."`
	Database        string        `env:"PATCHBAY_DATABASE_URL" help:"postgres://… to use PostgreSQL; empty for SQLite in the data directory."`
	PublicURL       string        `env:"PATCHBAY_PUBLIC_URL" help:"URL users and vendors reach Patchbay at (OAuth callbacks, admin links); http://<addr> by default."`
	Keys            string        `name:"encryption-keys" env:"PATCHBAY_ENCRYPTION_KEYS" help:"Encryption key ring: id:base64key[,id:base64key…], current first. A generated key file in the data directory when empty."`
	LogLevel        string        `env:"PATCHBAY_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level (debug, info, warn, error)."`
	LogFormat       string        `env:"PATCHBAY_LOG_FORMAT" default:"text" enum:"text,json" help:"Log format (text or json)."`
	ConnectorsDir   string        `name:"connectors-dir" env:"PATCHBAY_CONNECTORS_DIR" type:"path" help:"Directory of extra connector files (*.json); one with a catalog slug replaces that connector."`
	ConnectorURLs   string        `name:"connector-urls" env:"PATCHBAY_CONNECTOR_URLS" help:"Base-URL overrides: slug=url[,slug=url…]; every URL of the connector moves to that origin."`
	RefreshInterval time.Duration `name:"refresh-interval" env:"PATCHBAY_REFRESH_INTERVAL" default:"30s" help:"How often credentials about to expire are refreshed."`
	RefreshAhead    time.Duration `name:"refresh-ahead" env:"PATCHBAY_REFRESH_AHEAD" default:"2m" help:"A credential used within this long of its expiry is refreshed first."`
	AllowNetworks   string        `name:"allow-networks" env:"PATCHBAY_ALLOW_NETWORKS" help:"CIDRs outbound deliveries may reach although private or loopback (development and tests), e.g. 127.0.0.0/8."`
	Workers         int           `name:"delivery-workers" env:"PATCHBAY_DELIVERY_WORKERS" default:"64" help:"Deliveries attempted at once by this process."`
	Lease           time.Duration `name:"delivery-lease" env:"PATCHBAY_DELIVERY_LEASE" default:"2m" help:"How long a claimed delivery is held before another worker may take it over (crash recovery)."`
	RetrySchedule   string        `name:"retry-schedule" env:"PATCHBAY_RETRY_SCHEDULE" default:"1m,5m,15m,1h,4h,24h" help:"Waits between delivery attempts (with ±20% jitter); endpoints may override."`
	MaxAttempts     int           `name:"max-attempts" env:"PATCHBAY_MAX_ATTEMPTS" default:"6" help:"Attempts before a delivery is dead-lettered; endpoints may override."`
	SyncInterval    time.Duration `name:"sync-scheduler-interval" env:"PATCHBAY_SYNC_SCHEDULER_INTERVAL" default:"30s" help:"How often due sync schedules are looked for."`
	URL             string        `name:"url" env:"PATCHBAY_URL" help:"Server URL for remote commands; the public URL by default."`
	APIKey          string        `name:"api-key" env:"PATCHBAY_API_KEY" help:"API key for remote commands."`
	JSON            bool          `name:"json" help:"Print machine-readable JSON."`

	stdout io.Writer
	stderr io.Writer
}

// run parses args and runs the command, returning the exit code. Errors are
// printed as one readable line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c cli
	c.stdout, c.stderr = stdout, stderr
	parser, err := kong.New(&c,
		kong.Name("patchbay"),
		kong.Description("Patchbay owns every connection from a SaaS platform's tenants to third-party vendors, and the traffic across it."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		fmt.Fprintf(stderr, "patchbay: %v\n", err)
		return 2
	}
	kctx, exited, err := parse(parser, args)
	if exited != nil {
		return *exited
	} else if err != nil {
		fmt.Fprintf(stderr, "patchbay: %v\n", err)
		return 2
	}
	// The connections subcommands share one Run; tell it which was named.
	action := actionName(kctx.Selected().Name)
	if err := kctx.Run(&c.Globals, action); err != nil {
		fmt.Fprintf(stderr, "patchbay: %s\n", describe(err))
		return 1
	}
	return 0
}

// exitCode carries kong's exit (after --help, or a usage error) out of
// Parse, so run can return a code instead of the process exiting.
type exitCode int

// parse parses args; exited is set when kong asked to exit (after --help).
func parse(parser *kong.Kong, args []string) (kctx *kong.Context, exited *int, err error) {
	defer func() {
		if v := recover(); v != nil {
			c, ok := v.(exitCode)
			if !ok {
				panic(v)
			}
			code := int(c)
			exited = &code
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, nil, err
}

// describe turns an error into one line for a person.
func describe(err error) string {
	var pe *patchbay.Error
	if errors.As(err, &pe) && pe.Code != patchbay.EINTERNAL {
		return pe.Message
	}
	return err.Error()
}

type versionCmd struct{}

func (versionCmd) Run(g *Globals) error {
	fmt.Fprintln(g.stdout, "patchbay", version)
	return nil
}
