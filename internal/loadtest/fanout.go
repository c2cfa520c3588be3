package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchbay/patchbay/client"
)

// fanout creates Fanout endpoints on the receiver, each with its own
// secret and ?ep= key, and times one event to all of them.
func (b *bench) fanout(ctx context.Context) error {
	n := b.cfg.Fanout
	b.logf("fan-out: creating %d endpoints", n)
	secrets := make(map[string]string, n)
	var mu sync.Mutex
	var next atomic.Int64
	var firstErr error
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				key := "f" + strconv.Itoa(i)
				u := b.rc.url + "/hook?ep=" + key
				var ep client.EndpointSecret
				err := b.api.Do(ctx, http.MethodPost, "/v1/endpoints", nil,
					client.EndpointRequest{URL: &u, EventTypes: []string{"bench.fanout"}}, &ep)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("create fan-out endpoint %d: %w", i, err)
				}
				secrets[key] = ep.Secret
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := b.rc.setSecrets(ctx, secrets); err != nil {
		return err
	}
	time.Sleep(time.Second)
	base, err := b.unique(ctx)
	if err != nil {
		return err
	}
	b.logf("fan-out: one event to %d endpoints", n)
	start := time.Now()
	id, err := publishOne(ctx, b.api, client.EventRequest{Type: "bench.fanout", Payload: payload(0, b.cfg.PayloadBytes)})
	if err != nil {
		return fmt.Errorf("publish the fan-out event: %w", err)
	}
	receipts, err := b.waitUnique(ctx, base, n, 60*time.Second+time.Duration(n)*20*time.Millisecond)
	if err != nil {
		return err
	}
	var last time.Time
	missing := 0
	for key := range secrets {
		r, ok := receipts[key+"/"+id]
		if !ok {
			missing++
			continue
		}
		if at := time.Unix(0, r.First); at.After(last) {
			last = at
		}
	}
	if missing > 0 {
		b.res.Missing += missing
		b.fail("fan-out: %d of %d endpoints never received the event", missing, n)
	}
	b.res.FanoutEndpoints = n
	if last.After(start) {
		b.res.FanoutMS = float64(last.Sub(start)) / float64(time.Millisecond)
	}
	b.logf("fan-out: %d endpoints in %.0f ms", n-missing, b.res.FanoutMS)
	return nil
}
