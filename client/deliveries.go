package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// ListEndpoints returns a page of the org's webhook endpoints.
func (c *Client) ListEndpoints(ctx context.Context, opt ListOptions) (*List[Endpoint], error) {
	var out List[Endpoint]
	return &out, c.Do(ctx, http.MethodGet, "/v1/endpoints", opt.values(), nil, &out)
}

// CreateEndpoint creates a webhook endpoint; the answer holds its signing
// secret, once.
func (c *Client) CreateEndpoint(ctx context.Context, req EndpointRequest) (*EndpointSecret, error) {
	var out EndpointSecret
	return &out, c.Do(ctx, http.MethodPost, "/v1/endpoints", nil, req, &out)
}

// UpdateEndpoint changes a webhook endpoint.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, req EndpointRequest) (*Endpoint, error) {
	var out Endpoint
	return &out, c.Do(ctx, http.MethodPatch, "/v1/endpoints/"+url.PathEscape(id), nil, req, &out)
}

// DeleteEndpoint deletes a webhook endpoint; its deliveries stay in the log.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodDelete, "/v1/endpoints/"+url.PathEscape(id), nil, nil, nil)
}

// RotateEndpointSecret gives an endpoint a new secret, returned once; the
// old one keeps signing for grace (24 hours when zero).
func (c *Client) RotateEndpointSecret(ctx context.Context, id string, grace time.Duration) (*EndpointSecret, error) {
	var out EndpointSecret
	return &out, c.Do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/rotate-secret", nil,
		RotateRequest{GraceSeconds: int(grace / time.Second)}, &out)
}

// Publish publishes one event.
func (c *Client) Publish(ctx context.Context, req EventRequest) (*Published, error) {
	var out Published
	return &out, c.Do(ctx, http.MethodPost, "/v1/events", nil, req, &out)
}

// PublishBatch publishes up to 500 events in one transaction.
func (c *Client) PublishBatch(ctx context.Context, events []EventRequest) (*List[Published], error) {
	var out List[Published]
	return &out, c.Do(ctx, http.MethodPost, "/v1/events/batch", nil, BatchRequest{Events: events}, &out)
}

// DeliveriesQuery filters ListDeliveries.
type DeliveriesQuery struct {
	EndpointID   string
	ConnectionID string
	Status       []string
	EventType    string
	Q            string
	Since, Until time.Time
	Oldest       bool
	ListOptions
}

// ListDeliveries searches the delivery log.
func (c *Client) ListDeliveries(ctx context.Context, q DeliveriesQuery) (*List[Delivery], error) {
	v := q.values()
	setFilled(v, map[string]string{"endpoint_id": q.EndpointID, "connection_id": q.ConnectionID,
		"event_type": q.EventType, "q": q.Q})
	for _, st := range q.Status {
		v.Add("status", st)
	}
	setTime(v, "since", q.Since)
	setTime(v, "until", q.Until)
	if q.Oldest {
		v.Set("sort", "oldest")
	}
	var out List[Delivery]
	return &out, c.Do(ctx, http.MethodGet, "/v1/deliveries", v, nil, &out)
}

// GetDelivery returns a delivery with its attempts.
func (c *Client) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	var out Delivery
	return &out, c.Do(ctx, http.MethodGet, "/v1/deliveries/"+url.PathEscape(id), nil, nil, &out)
}

// RetryDeliveries retries deliveries by id or by filter.
func (c *Client) RetryDeliveries(ctx context.Context, req RetryRequest) (*RetryResult, error) {
	var out RetryResult
	return &out, c.Do(ctx, http.MethodPost, "/v1/deliveries/retry", nil, req, &out)
}
