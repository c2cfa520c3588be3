package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay/patchbay/client"
)

type requestsCmd struct {
	List requestsListCmd `cmd:"" default:"withargs" help:"Search the request log."`
	Show requestsShowCmd `cmd:"" help:"Show one vendor API call."`
}

type requestsListCmd struct {
	Connection string `help:"Only this connection."`
	Source     string `enum:"proxy,delivery,test," default:"" help:"Only calls made by proxy, delivery or test."`
	Method     string `help:"Only this HTTP method."`
	Status     string `help:"Only this status (404) or class (5xx)."`
	Since      string `help:"Only calls at or after this time (RFC 3339) or this long ago (24h)."`
	Oldest     bool   `help:"Oldest first."`
	Q          string `arg:"" optional:"" help:"Free text on the path."`
	Limit      int    `default:"50" help:"Rows to show."`
}

func (c *requestsListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	q := client.RequestsQuery{ConnectionID: c.Connection, Source: c.Source, Method: c.Method, Status: c.Status, Q: c.Q,
		Oldest: c.Oldest, ListOptions: client.ListOptions{Limit: c.Limit}}
	if c.Since != "" {
		if d, err := time.ParseDuration(c.Since); err == nil {
			q.Since = time.Now().Add(-d)
		} else if q.Since, err = time.Parse(time.RFC3339, c.Since); err != nil {
			return fmt.Errorf("--since: %q is neither a time (RFC 3339) nor a duration", c.Since)
		}
	}
	page, err := cl.ListRequests(ctx, q)
	if err != nil {
		return err
	}
	return g.print(page, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tCONNECTION\tSOURCE\tMETHOD\tPATH\tSTATUS\tMS\tFLAGS\tCREATED")
		for _, r := range page.Data {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.ID, r.ConnectionID, r.Source, r.Method, r.Path,
				r.StatusCode, r.DurationMS, requestFlags(r), when(&r.CreatedAt))
		}
	})
}

// requestFlags summarises a row's cache, replay and retry marks.
func requestFlags(r client.APIRequest) string {
	var f []string
	if r.CacheHit {
		f = append(f, "cache")
	}
	if r.Stale {
		f = append(f, "stale")
	}
	if r.Replayed {
		f = append(f, "replay")
	}
	if r.RetryOf != "" {
		f = append(f, fmt.Sprintf("retry#%d", r.Attempt))
	}
	return strings.Join(f, ",")
}

type requestsShowCmd struct {
	ID string `arg:"" help:"Request id."`
}

func (c *requestsShowCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	r, err := cl.GetRequest(ctx, c.ID)
	if err != nil {
		return err
	}
	return g.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Request:\t%s (%s, attempt %d)\nConnection:\t%s (%s)\nCall:\t%s %s\nStatus:\t%d in %d ms\n",
			r.ID, r.Source, r.Attempt, r.ConnectionID, r.Connector, r.Method, r.Path, r.StatusCode, r.DurationMS)
		for k, v := range map[string]string{"Vendor request id:": r.VendorRequestID, "Idempotency key:": r.IdempotencyKey,
			"Retry of:": r.RetryOf, "Flags:": requestFlags(*r), "Error:": r.Error} {
			if v != "" {
				fmt.Fprintf(w, "%s\t%s\n", k, v)
			}
		}
		fmt.Fprintf(w, "Request body:\t%s\nResponse body:\t%s\n", r.RequestBody, r.ResponseBody)
	})
}

type connectionProxyCmd struct {
	ID             string        `arg:"" help:"Connection id."`
	Method         string        `arg:"" help:"GET, POST, PUT, PATCH, DELETE or HEAD."`
	Path           string        `arg:"" help:"Vendor API path with its query, relative to the connector's base URL."`
	Data           string        `short:"d" help:"Request body (JSON unless --content-type says otherwise); @file reads a file."`
	ContentType    string        `name:"content-type" help:"Content type of the body."`
	IdempotencyKey string        `name:"idempotency-key" help:"At most once per connection; forwarded to vendors that accept one."`
	Retry          bool          `help:"Let a write be retried."`
	CacheTTL       time.Duration `name:"cache-ttl" help:"Cache a GET's answer this long."`
	Scopes         []string      `name:"require-scope" help:"Vendor scopes the call needs."`
}

func (c *connectionProxyCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	r := client.ProxyRequest{Method: strings.ToUpper(c.Method), Path: c.Path, ContentType: c.ContentType,
		IdempotencyKey: c.IdempotencyKey, Retry: c.Retry, CacheTTL: c.CacheTTL, RequireScopes: c.Scopes}
	if file, ok := strings.CutPrefix(c.Data, "@"); ok {
		if r.Body, err = os.ReadFile(file); err != nil {
			return err
		}
	} else if c.Data != "" {
		r.Body = []byte(c.Data)
	}
	res, err := cl.Proxy(ctx, c.ID, r)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d %s (request %s", res.StatusCode, res.Header.Get("Content-Type"), res.RequestID)
	if res.Cache != "" {
		fmt.Fprintf(os.Stderr, ", cache %s", res.Cache)
	}
	if res.Replayed {
		fmt.Fprint(os.Stderr, ", replayed")
	}
	fmt.Fprintln(os.Stderr, ")")
	_, err = os.Stdout.Write(res.Body)
	if err == nil && res.StatusCode >= 400 {
		return fmt.Errorf("the vendor answered %d", res.StatusCode)
	}
	return err
}
