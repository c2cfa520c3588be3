package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/httpapi"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/postgres"
	"github.com/patchbay/patchbay/internal/proxy"
	"github.com/patchbay/patchbay/internal/secret"
	"github.com/patchbay/patchbay/internal/sqlite"
	"github.com/patchbay/patchbay/internal/sqlstore"
	"github.com/patchbay/patchbay/internal/syncs"
	"github.com/patchbay/patchbay/internal/webui"
)

// Main is a running Patchbay: configuration, key ring, store and HTTP
// server, wired together. Open starts it; Close stops it.
type Main struct {
	Globals     *Globals
	Logger      *slog.Logger
	Ring        *secret.Ring
	Store       *sqlstore.Store
	Catalog     *connector.Catalog
	Connections *connection.Service
	Deliveries  *delivery.Service
	Engine      *delivery.Engine
	Pruner      *delivery.Pruner
	Syncs       *syncs.Service
	Scheduler   *syncs.Scheduler
	HTTP        *http.Server

	listener   net.Listener
	stopListen context.CancelFunc
}

// newLogger returns the process logger, writing to stderr.
func newLogger(g *Globals) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if g.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

// openStore opens the store the configuration names and migrates it.
func openStore(ctx context.Context, g *Globals, logger *slog.Logger) (*sqlstore.Store, error) {
	var (
		store *sqlstore.Store
		err   error
	)
	switch u := g.Database; {
	case u == "":
		store, err = sqlite.Open(filepath.Join(g.DataDir, "patchbay.db"), nil)
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		store, err = postgres.Open(ctx, u, nil)
	case strings.HasPrefix(u, "sqlite://"), strings.HasPrefix(u, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite://"), "sqlite:")
		store, err = sqlite.Open(path, nil)
	default:
		return nil, errors.New("unsupported database URL: use postgres://… or sqlite:<path>, or leave it empty for SQLite in the data directory")
	}
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if len(applied) > 0 {
		logger.Info("migrated database", "engine", store.Dialect(), "applied", applied)
	}
	return store, nil
}

// loadRing returns the encryption key ring: from configuration, or from a
// key file in the data directory, generated on first use.
func loadRing(g *Globals, logger *slog.Logger) (*secret.Ring, error) {
	if g.Keys != "" {
		return secret.ParseRing(g.Keys)
	}
	path := filepath.Join(g.DataDir, "encryption.key")
	spec, created, err := secret.LoadOrCreateFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	if created {
		logger.Warn("generated an encryption key file; production should supply its own key ring with PATCHBAY_ENCRYPTION_KEYS",
			"path", path)
	} else {
		logger.Warn("using the encryption key file in the data directory; production should supply its own key ring with PATCHBAY_ENCRYPTION_KEYS",
			"path", path)
	}
	return secret.ParseRing(spec)
}

// publicURL is where users reach this server.
func (g *Globals) publicURL(addr string) string {
	if g.PublicURL != "" {
		return strings.TrimRight(g.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// openPlane loads the key ring and the connector catalog, opens and
// migrates the store, and builds the connections plane over them. publicURL
// is where vendors send operators back.
func (m *Main) openPlane(ctx context.Context) error {
	g := m.Globals
	if m.Logger == nil {
		m.Logger = newLogger(g)
	}
	overrides, err := connector.ParseOverrides(g.ConnectorURLs)
	if err != nil {
		return err
	}
	if m.Catalog, err = connector.Load(g.ConnectorsDir, overrides); err != nil {
		return err
	}
	if m.Ring, err = loadRing(g, m.Logger); err != nil {
		return err
	}
	if m.Store, err = openStore(ctx, g, m.Logger); err != nil {
		return err
	}
	public := g.publicURL(g.Addr)
	if m.listener != nil {
		public = g.publicURL(m.listener.Addr().String())
	}
	m.Connections = connection.New(connection.Config{Store: m.Store, Catalog: m.Catalog, Ring: m.Ring,
		PublicURL: public, Logger: m.Logger})
	m.Connections.RefreshSkew = g.RefreshAhead
	return nil
}

// Open loads the configuration, opens and migrates the store, sets up an
// empty database, starts the refresh scheduler and starts listening.
func (m *Main) Open(ctx context.Context, setup setupFlags) error {
	g := m.Globals
	m.Logger = newLogger(g)
	var err error
	if m.listener, err = net.Listen("tcp", g.Addr); err != nil {
		return err
	}
	if err := m.openPlane(ctx); err != nil {
		return err
	}
	public := g.publicURL(m.listener.Addr().String())

	if n, err := m.Store.CountOrgs(ctx); err != nil {
		return err
	} else if n == 0 {
		res, err := patchbay.Bootstrap(ctx, m.Store, setup.OrgName, setup.AdminEmail)
		if patchbay.ErrorCode(err) == patchbay.ECONFLICT {
			m.Logger.Info("another replica set up the database first")
		} else if err != nil {
			return err
		} else {
			printCredentials(g.stdout, res, public)
		}
	}

	allow, err := delivery.ParseNetworks(g.AllowNetworks)
	if err != nil {
		return err
	}
	if len(allow) > 0 {
		m.Logger.Warn("outbound deliveries may reach these private networks", "networks", g.AllowNetworks)
	}
	policy := delivery.DefaultPolicy()
	if policy.Schedule, err = delivery.ParseSchedule(g.RetrySchedule); err != nil {
		return err
	}
	policy.MaxAttempts = g.MaxAttempts
	if err := policy.Validate(); err != nil {
		return err
	}
	m.Deliveries = delivery.NewService(m.Store, m.Ring, nil, m.Logger, nil)
	m.Engine = delivery.NewEngine(delivery.EngineConfig{Store: m.Store, Ring: m.Ring,
		Client: delivery.NewClient(delivery.Options{AllowNetworks: allow, IdlePerHost: g.Workers}), Connections: m.Connections,
		Policy: policy, Workers: g.Workers, Lease: g.Lease, Logger: m.Logger, Disable: m.Deliveries.Disable})
	m.Deliveries.SetEngine(m.Engine)
	background := context.WithoutCancel(ctx)
	m.Engine.Start(background)
	m.Pruner = &delivery.Pruner{Store: m.Store, Logger: m.Logger}
	m.Pruner.Start(background)
	if strings.HasPrefix(g.Database, "postgres") {
		lctx, cancel := context.WithCancel(background)
		m.stopListen = cancel
		go postgres.Listen(lctx, g.Database, m.Engine.Wake, m.Logger)
	}
	m.Connections.Start(background, g.RefreshInterval)
	in := &inbound.Service{Store: m.Store, Catalog: m.Catalog, Ring: m.Ring, Deliveries: m.Deliveries,
		PublicURL: public, Logger: m.Logger}
	px := proxy.New(proxy.Config{Store: m.Store, Connections: m.Connections, Ring: m.Ring, Logger: m.Logger})
	m.Syncs = syncs.New(syncs.Config{Store: m.Store, Catalog: m.Catalog, Connections: m.Connections,
		Deliveries: m.Deliveries, Logger: m.Logger})
	m.Scheduler = &syncs.Scheduler{Syncs: m.Syncs, Interval: g.SyncInterval}
	m.Scheduler.Start(background)
	ui := webui.New(webui.Config{Store: m.Store, Catalog: m.Catalog, Connections: m.Connections, Deliveries: m.Deliveries,
		Syncs: m.Syncs, Inbound: in,
		Logger: m.Logger, Secure: strings.HasPrefix(public, "https://"), KeyIDs: ringIDs(m.Ring), Version: version})
	api := httpapi.NewServer(httpapi.Config{Store: m.Store, Logger: m.Logger, Version: version,
		Catalog: m.Catalog, Connections: m.Connections, Deliveries: m.Deliveries, Inbound: in, Proxy: px, Syncs: m.Syncs, UI: ui})
	m.HTTP = &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := m.HTTP.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "error", err)
		}
	}()
	m.Logger.Info("listening", "addr", m.listener.Addr().String(), "engine", m.Store.Dialect(), "version", version)
	fmt.Fprintf(g.stdout, "Patchbay is listening on http://%s\nAdmin URL: %s/\n", m.listener.Addr(), public)
	return nil
}

// Close stops serving, letting requests in flight finish, and closes the
// store.
func (m *Main) Close() error {
	var err error
	if m.Connections != nil {
		m.Connections.Stop()
	}
	if m.stopListen != nil {
		m.stopListen()
	}
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = m.HTTP.Shutdown(ctx)
	} else if m.listener != nil {
		err = m.listener.Close()
	}
	if m.Pruner != nil {
		m.Pruner.Stop()
	}
	if m.Scheduler != nil {
		m.Scheduler.Stop()
	}
	if m.Engine != nil {
		m.Engine.Stop() // after the HTTP server: no publish wakes a stopped engine
	}
	if m.Store != nil {
		err = errors.Join(err, m.Store.Close())
	}
	return err
}

// setupFlags name the first org and its Administrator on an empty database.
type setupFlags struct {
	OrgName    string `name:"org-name" env:"PATCHBAY_ORG_NAME" default:"Default" help:"Name of the first org."`
	AdminEmail string `name:"admin-email" env:"PATCHBAY_ADMIN_EMAIL" default:"admin@example.com" help:"E-mail address of the first Administrator."`
}

type serveCmd struct {
	setupFlags
	DebugAddr string `name:"debug-addr" env:"PATCHBAY_DEBUG_ADDR" placeholder:"HOST:PORT" help:"Also serve Go's runtime profiles (/debug/pprof/) on this address, such as 127.0.0.1:6060; off when empty. Never expose it publicly."`
}

func (c *serveCmd) Run(ctx context.Context, g *Globals) error {
	setGCPercent()
	m := &Main{Globals: g}
	if err := m.Open(ctx, c.setupFlags); err != nil {
		m.Close()
		return err
	}
	if c.DebugAddr != "" {
		stop, err := serveDebug(c.DebugAddr, m.Logger)
		if err != nil {
			m.Close()
			return err
		}
		defer stop()
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

// serveGCPercent is the garbage collector's target for patchbay serve,
// unless GOGC sets one: the heap may grow to three times what is live
// before a collection, not twice. Under load (make bench) that delivered
// about 8% more events per second for about 20 MiB more memory; a busy
// server's live heap is a few tens of MiB.
const serveGCPercent = 200

func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// ringIDs lists the key ring's key ids, the current one first, for the
// web UI's settings page.
func ringIDs(r *secret.Ring) func() []string {
	return func() []string {
		ids := []string{r.CurrentID()}
		for _, id := range r.IDs() {
			if id != r.CurrentID() {
				ids = append(ids, id)
			}
		}
		return ids
	}
}
