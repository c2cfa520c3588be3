package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchbay/patchbay/client"
)

type endpointsCmd struct {
	List   endpointsListCmd   `cmd:"" default:"withargs" help:"List webhook endpoints."`
	Create endpointsCreateCmd `cmd:"" help:"Create an endpoint and print its signing secret once."`
	Rotate endpointsRotateCmd `cmd:"" help:"Rotate an endpoint's signing secret; the old one signs too for a grace period."`
	Delete endpointsDeleteCmd `cmd:"" help:"Delete an endpoint (its deliveries stay in the log)."`
}

type endpointsListCmd struct{}

func (endpointsListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	var all []client.Endpoint
	opt := client.ListOptions{}
	for {
		page, err := cl.ListEndpoints(ctx, opt)
		if err != nil {
			return err
		}
		all = append(all, page.Data...)
		if opt.Cursor = page.NextCursor; opt.Cursor == "" {
			break
		}
	}
	return g.print(all, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tURL\tEVENT TYPES\tACTIVE\tDISABLED\tFAILURES")
		for _, e := range all {
			fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%t\t%d\n", e.ID, e.URL, strings.Join(e.EventTypes, ","), e.Active, e.Disabled, e.ConsecutiveFailures)
		}
	})
}

type endpointsCreateCmd struct {
	URL         string   `arg:"" help:"Where to POST webhooks."`
	Events      []string `name:"events" default:"*" help:"Event types: exact, invoice.* or *."`
	Description string   `help:"What the endpoint is."`
}

func (c *endpointsCreateCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	res, err := cl.CreateEndpoint(ctx, client.EndpointRequest{URL: &c.URL, EventTypes: c.Events, Description: &c.Description})
	if err != nil {
		return err
	}
	return g.print(res, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Created endpoint %s for %s.\nSigning secret:\t%s\nIt is shown once and cannot be shown again; store it now.\n",
			res.Endpoint.ID, res.Endpoint.URL, res.Secret)
	})
}

type endpointsRotateCmd struct {
	ID    string        `arg:"" help:"Endpoint id."`
	Grace time.Duration `default:"24h" help:"How long the old secret keeps signing."`
}

func (c *endpointsRotateCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	res, err := cl.RotateEndpointSecret(ctx, c.ID, c.Grace)
	if err != nil {
		return err
	}
	return g.print(res, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "New signing secret:\t%s\nThe old secret signs too until %s.\n", res.Secret, when(res.Endpoint.PreviousSecretExpiresAt))
	})
}

type endpointsDeleteCmd struct {
	ID string `arg:"" help:"Endpoint id."`
}

func (c *endpointsDeleteCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteEndpoint(ctx, c.ID); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Deleted endpoint %s.\n", c.ID)
	return nil
}

type eventsCmd struct {
	Publish eventsPublishCmd `cmd:"" help:"Publish an event to the subscribed endpoints."`
}

type eventsPublishCmd struct {
	Type           string `arg:"" help:"Event type, e.g. invoice.paid."`
	Payload        string `arg:"" help:"The payload, as JSON."`
	SourceModule   string `name:"source-module" help:"The module that raised it."`
	SourceID       string `name:"source-id" help:"That module's identifier."`
	IdempotencyKey string `name:"idempotency-key" help:"The same key always yields the same event."`
}

func (c *eventsPublishCmd) Run(ctx context.Context, g *Globals) error {
	if !json.Valid([]byte(c.Payload)) {
		return fmt.Errorf("the payload is not valid JSON")
	}
	cl, err := g.client()
	if err != nil {
		return err
	}
	res, err := cl.Publish(ctx, client.EventRequest{Type: c.Type, Payload: json.RawMessage(c.Payload),
		SourceModule: c.SourceModule, SourceID: c.SourceID, IdempotencyKey: c.IdempotencyKey})
	if err != nil {
		return err
	}
	return g.print(res, func(w *tabwriter.Writer) {
		if res.Duplicate {
			fmt.Fprintf(w, "Event %s was published before with this idempotency key; nothing new was stored.\n", res.Event.ID)
			return
		}
		fmt.Fprintf(w, "Published %s (%s) to %d endpoints.\n", res.Event.ID, res.Event.Type, res.Deliveries)
	})
}

type deliveriesCmd struct {
	List  deliveriesListCmd  `cmd:"" default:"withargs" help:"Search the delivery log."`
	Show  deliveriesShowCmd  `cmd:"" help:"Show a delivery with its attempts."`
	Retry deliveriesRetryCmd `cmd:"" help:"Retry deliveries now, with fresh attempts."`
}

type deliveriesListCmd struct {
	Endpoint  string   `help:"Only this endpoint."`
	Status    []string `help:"Only these statuses (delivered, retrying, dead_letter, held, …)."`
	EventType string   `name:"event-type" help:"Exact, or a prefix such as invoice.*."`
	Q         string   `arg:"" optional:"" help:"Free text on the event's source id and ids."`
	Limit     int      `default:"50" help:"Rows to show."`
}

func (c *deliveriesListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	page, err := cl.ListDeliveries(ctx, client.DeliveriesQuery{EndpointID: c.Endpoint, Status: c.Status,
		EventType: c.EventType, Q: c.Q, ListOptions: client.ListOptions{Limit: c.Limit}})
	if err != nil {
		return err
	}
	return g.print(page, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tEVENT TYPE\tSOURCE\tSTATUS\tATTEMPTS\tLAST CODE\tCREATED")
		for _, d := range page.Data {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", d.ID, d.EventType, d.SourceID, d.Status, d.Attempts,
				d.LastStatusCode, when(&d.CreatedAt))
		}
	})
}

type deliveriesShowCmd struct {
	ID string `arg:"" help:"Delivery id."`
}

func (c *deliveriesShowCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	d, err := cl.GetDelivery(ctx, c.ID)
	if err != nil {
		return err
	}
	return g.print(d, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Delivery:\t%s (%s, event %s)\nStatus:\t%s after %d attempts\n", d.ID, d.EventType, d.EventID, d.Status, d.Attempts)
		if d.NextAttemptAt != nil {
			fmt.Fprintf(w, "Next attempt:\t%s\n", when(d.NextAttemptAt))
		}
		fmt.Fprintln(w, "\n#\tTIME\tCODE\tLATENCY\tERROR")
		for _, a := range d.AttemptLog {
			fmt.Fprintf(w, "%d\t%s\t%d\t%d ms\t%s\n", a.Number, when(&a.StartedAt), a.StatusCode, a.LatencyMS, a.Error)
		}
	})
}

type deliveriesRetryCmd struct {
	IDs      []string `arg:"" optional:"" help:"Delivery ids; or use --endpoint / --status."`
	Endpoint string   `help:"Retry this endpoint's undelivered deliveries."`
	Status   []string `help:"Retry deliveries in these statuses (dead_letter, retrying, held)."`
}

func (c *deliveriesRetryCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	res, err := cl.RetryDeliveries(ctx, client.RetryRequest{IDs: c.IDs, EndpointID: c.Endpoint, Status: c.Status})
	if err != nil {
		return err
	}
	return g.print(res, func(w *tabwriter.Writer) { fmt.Fprintf(w, "Retrying %d deliveries now.\n", res.Retried) })
}
