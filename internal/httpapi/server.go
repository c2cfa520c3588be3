// Package httpapi serves Patchbay's REST API under /v1, its OpenAPI document,
// health checks and metrics. Every /v1 route is declared once, with the
// capabilities it needs, in the route table (routes.go).
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/connection"
	"github.com/patchbay/patchbay/internal/connector"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/inbound"
	"github.com/patchbay/patchbay/internal/proxy"
	"github.com/patchbay/patchbay/internal/syncs"
)

// Config configures a Server.
type Config struct {
	Store   patchbay.Store
	Logger  *slog.Logger
	Now     func() time.Time // patchbay.Now when nil
	Version string
	// Registry receives the server's metrics; a new one when nil.
	Registry *prometheus.Registry
	// Catalog is the connector catalog and Connections the connections
	// plane over it.
	Catalog     Catalog
	Connections *connection.Service
	// Deliveries is the outbound delivery service.
	Deliveries *delivery.Service
	// Inbound receives vendors' webhooks.
	Inbound *inbound.Service
	// Proxy calls vendors' APIs through connections.
	Proxy *proxy.Service
	// UI, when set, serves the admin web UI at / and every path the API
	// does not claim; without it / shows a short landing page.
	UI http.Handler
	// Syncs runs sync runs; one over Store, Catalog, Connections and
	// Deliveries when nil.
	Syncs *syncs.Service
}

// Catalog is the connector catalog the API lists.
type Catalog interface {
	Get(slug string) (*patchbay.Connector, bool)
	List(f connector.Filter) []*patchbay.Connector
}

// Server is the HTTP API. It implements http.Handler.
type Server struct {
	store       patchbay.Store
	catalog     Catalog
	connections *connection.Service
	deliveries  *delivery.Service
	inbound     *inbound.Service
	proxy       *proxy.Service
	proxyNeeds  []patchbay.Capability
	ui          http.Handler
	syncs       *syncs.Service
	logger      *slog.Logger
	now         func() time.Time
	mux         *http.ServeMux
	api         huma.API
	routes      []Route
	limits      *keyLimiter
	metrics     *metrics
}

// NewServer returns a server with every route registered.
func NewServer(cfg Config) *Server {
	s := &Server{store: cfg.Store, catalog: cfg.Catalog, connections: cfg.Connections, deliveries: cfg.Deliveries, inbound: cfg.Inbound,
		proxy: cfg.Proxy, ui: cfg.UI, logger: cfg.Logger,
		now: cfg.Now, mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = patchbay.Now
	}
	if s.syncs = cfg.Syncs; s.syncs == nil {
		s.syncs = syncs.New(syncs.Config{Store: cfg.Store, Catalog: cfg.Catalog, Connections: cfg.Connections,
			Deliveries: cfg.Deliveries, Logger: s.logger, Now: s.now})
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(cfg.Registry)
	s.limits = newKeyLimiter(s.now)

	hc := huma.DefaultConfig("Patchbay API", cfg.Version)
	hc.Info.Description = "Connections, outbound delivery and inbound webhooks for a SaaS platform's tenants. " +
		"Authenticate with `Authorization: Bearer <API key>`. Errors are `{\"error\":{\"code\",\"message\"}}`."
	hc.OpenAPIPath = "/v1/openapi"
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.CreateHooks = nil // no $schema links in bodies
	hc.Formats = map[string]huma.Format{"application/json": strictJSON, "json": strictJSON}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", Description: "A Patchbay API key (pb_…)."},
	}
	hc.Security = []map[string][]string{{"apiKey": {}}}
	s.api = humago.New(s.mux, hc)
	s.api.UseMiddleware(s.authenticate)

	s.routes = s.routeTable()
	for _, rt := range s.routes {
		rt.register(s.api, rt.operation())
	}

	if s.ui == nil {
		s.mux.HandleFunc("GET /{$}", s.home(cfg.Version))
	}
	s.mux.HandleFunc("GET /oauth/callback", s.oauthCallback)
	s.mux.HandleFunc("POST /inbound/{token}", s.receiveInbound)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.handler(cfg.Registry))
	return s
}

// Routes returns the /v1 route table.
func (s *Server) Routes() []Route { return s.routes }

// OpenAPI returns the OpenAPI document built from the route table.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// ServeHTTP logs, measures and routes a request. Unknown paths and methods
// get the same JSON error body as every other error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &requestInfo{logger: s.logger}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	w = rec
	w.Header().Set("X-Content-Type-Options", "nosniff")

	h, pattern := s.mux.Handler(r)
	defer func() {
		if v := recover(); v != nil {
			s.logger.ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("path", r.URL.Path))
			if !rec.wrote {
				writeError(w, &patchbay.Error{Code: patchbay.EINTERNAL})
			}
		}
		s.observe(r, rec.status, pattern, info, time.Since(start))
	}()
	if pattern == "" {
		// The mux's own 404 or 405 handler: learn which, answer in JSON.
		probe := httptest.NewRecorder()
		h.ServeHTTP(probe, r)
		if probe.Code == http.StatusNotFound && s.ui != nil && !strings.HasPrefix(r.URL.Path, "/v1/") {
			pattern = "ui"
			s.ui.ServeHTTP(w, r)
			return
		}
		if probe.Code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", probe.Header().Get("Allow"))
			writeError(w, patchbay.Errorf(patchbay.ENOTALLOWED, "Method %s is not allowed on %s.", r.Method, r.URL.Path))
		} else {
			writeError(w, patchbay.Errorf(patchbay.ENOTFOUND, "No such path: %s.", r.URL.Path))
		}
		return
	}
	// The API takes JSON; vendors calling /inbound and /oauth send what they
	// send, and the proxy passes on what the vendor takes.
	if r.ContentLength != 0 && strings.HasPrefix(r.URL.Path, "/v1/") && pattern != proxyPattern && !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, patchbay.Errorf(patchbay.EUNSUPPORTED, "Content-Type must be application/json."))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// isJSON reports whether a request's Content-Type is JSON; an absent one is
// taken to be.
func isJSON(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// observe records a finished request in the log and the metrics. The log
// line carries who and what, never a credential or a body.
func (s *Server) observe(r *http.Request, status int, pattern string, info *requestInfo, d time.Duration) {
	route := pattern
	if route == "" {
		route = "unmatched"
	}
	s.metrics.observe(r.Method, route, status, d)
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
		slog.Duration("duration", d), slog.String("remote", r.RemoteAddr),
	}
	if info.principal != nil {
		attrs = append(attrs, slog.String("org", info.principal.OrgID), slog.String("actor", info.principal.ActorName))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.logger.LogAttrs(r.Context(), level, "request", attrs...)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "not ready", slog.String("error", err.Error()))
		writeError(w, patchbay.Errorf(patchbay.EUNAVAILABLE, "Database unavailable."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// requestInfo travels in a request's context so the access log can name
// the principal once authentication has found it.
type requestInfo struct {
	logger    *slog.Logger
	principal *patchbay.Principal
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{logger: slog.Default()}
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(mustJSON(v), '\n'))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
