package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/delivery"
)

// httpClient returns a keep-alive client for up to conns connections to one
// host on 127.0.0.1, never through a proxy.
func httpClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// apiClient returns a Patchbay client for concurrent use by conns
// goroutines.
func apiClient(url, key string, conns int) *client.Client {
	c := client.New(url, key)
	c.HTTPClient = httpClient(conns, time.Minute)
	c.UserAgent = "patchbay-bench"
	return c
}

// payload is the JSON payload of the seq-th event, padded to about size
// bytes, so events and baseline requests carry the same bodies.
func payload(seq, size int) json.RawMessage {
	head := `{"seq":` + strconv.Itoa(seq) + `,"pad":"`
	pad := max(size-len(head)-2, 0)
	return json.RawMessage(head + strings.Repeat("x", pad) + `"}`)
}

// envelope is a webhook body shaped like Patchbay's, for the raw baseline.
func envelope(id string, data json.RawMessage) []byte {
	b, _ := json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{id, "bench.event", time.Now().UTC(), data})
	return b
}

// rawBaseline posts n signed webhooks straight to the receiver from
// workers keep-alive connections and returns requests per second and the
// number that failed. ids are prefix + index.
func rawBaseline(ctx context.Context, hookURL, secret, prefix string, n, workers, size int) (float64, int, error) {
	hc := httpClient(workers, 30*time.Second)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				id := prefix + strconv.Itoa(i)
				body := envelope(id, payload(i, size))
				h, err := delivery.Headers(id, time.Now(), body, secret)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					failed.Add(1)
					continue
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
				req.Header = h
				resp, err := hc.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					failed.Add(1)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode >= 300 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	hc.CloseIdleConnections()
	if err, _ := firstErr.Load().(error); err != nil && failed.Load() == int64(n) {
		return 0, n, err
	}
	return float64(n) / elapsed.Seconds(), int(failed.Load()), nil
}

// published is what a publish phase learnt: the ids of the events the API
// accepted, when each publish request started, and the phase's start and
// end.
type published struct {
	ids    []string
	starts []time.Time // per id, when its publish request started
	begin  time.Time
	end    time.Time
	errors []string
}

func (p *published) add(ids []string, start time.Time) {
	p.ids = append(p.ids, ids...)
	for range ids {
		p.starts = append(p.starts, start)
	}
}

// idsOnly asks a publish to leave the payloads it was sent out of its
// answer: the load tool needs only the events' ids, as would any
// high-volume publisher.
var idsOnly = url.Values{"with_content": {"false"}}

// publishBatches publishes n events of type typ in batches of batch from
// workers goroutines.
func publishBatches(ctx context.Context, c *client.Client, typ string, n, batch, workers, size int) *published {
	out := &published{begin: time.Now()}
	var mu sync.Mutex
	var next atomic.Int64
	batches := (n + batch - 1) / batch
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				b := int(next.Add(1)) - 1
				if b >= batches || ctx.Err() != nil {
					return
				}
				req := client.BatchRequest{}
				for i := b * batch; i < min(n, (b+1)*batch); i++ {
					req.Events = append(req.Events, client.EventRequest{Type: typ, Payload: payload(i, size)})
				}
				start := time.Now()
				var res client.List[client.Published]
				err := c.Do(ctx, http.MethodPost, "/v1/events/batch", idsOnly, req, &res)
				mu.Lock()
				if err != nil {
					out.errors = append(out.errors, fmt.Sprintf("batch %d: %v", b, err))
				} else {
					ids := make([]string, len(res.Data))
					for i, p := range res.Data {
						ids[i] = p.Event.ID
					}
					out.add(ids, start)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	out.end = time.Now()
	return out
}

// publishOne publishes one event and returns its id.
func publishOne(ctx context.Context, c *client.Client, req client.EventRequest) (string, error) {
	var res client.Published
	if err := c.Do(ctx, http.MethodPost, "/v1/events", idsOnly, req, &res); err != nil {
		return "", err
	}
	return res.Event.ID, nil
}

// publishSingles publishes n events one request each from workers
// goroutines, as fast as they go.
func publishSingles(ctx context.Context, c *client.Client, typ string, n, workers, size int) *published {
	out := &published{begin: time.Now()}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				start := time.Now()
				id, err := publishOne(ctx, c, client.EventRequest{Type: typ, Payload: payload(i, size)})
				mu.Lock()
				if err != nil {
					out.errors = append(out.errors, fmt.Sprintf("event %d: %v", i, err))
				} else {
					out.add([]string{id}, start)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	out.end = time.Now()
	return out
}

// publishPaced publishes one event every 1/rate seconds for d, each from
// its own goroutine so that a slow answer does not delay the next.
func publishPaced(ctx context.Context, c *client.Client, typ string, rate float64, d time.Duration, size int) *published {
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	out := &published{begin: time.Now()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n && ctx.Err() == nil; i++ {
		if wait := time.Until(out.begin.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			start := time.Now()
			id, err := publishOne(ctx, c, client.EventRequest{Type: typ, Payload: payload(i, size)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.errors = append(out.errors, fmt.Sprintf("event %d: %v", i, err))
				return
			}
			out.add([]string{id}, start)
		})
	}
	wg.Wait()
	out.end = time.Now()
	return out
}

// arrivals matches published ids with the receiver's receipts (keyed by
// prefix + id): how many are missing, the last first-receipt, and each
// found id's latency from its publish request's start, in milliseconds.
func arrivals(p *published, receipts map[string]Receipt, prefix string) (missing int, last time.Time, latencies []float64) {
	for i, id := range p.ids {
		r, ok := receipts[prefix+id]
		if !ok {
			missing++
			continue
		}
		at := time.Unix(0, r.First)
		if at.After(last) {
			last = at
		}
		latencies = append(latencies, float64(at.Sub(p.starts[i]))/float64(time.Millisecond))
	}
	return missing, last, latencies
}
