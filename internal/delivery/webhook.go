package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/patchbay/patchbay"
)

// envelope is the body of a webhook: the event with its metadata, then
// "data", the payload exactly as published (see webhookBody).
type envelope struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	Timestamp string  `json:"timestamp"` // RFC 3339 (see newEnvelope)
	Source    *source `json:"source,omitempty"`
}

// newEnvelope returns ev's envelope. The timestamp is formatted here as
// encoding/json formats a time.Time, without its MarshalJSON: that call
// and the check of its output were half the cost of encoding an envelope.
func newEnvelope(ev *patchbay.Event) envelope {
	env := envelope{ID: ev.ID, Type: ev.Type, Timestamp: ev.CreatedAt.UTC().Format(time.RFC3339Nano)}
	if ev.SourceModule != "" || ev.SourceID != "" {
		env.Source = &source{Module: ev.SourceModule, ID: ev.SourceID}
	}
	return env
}

// webhookBody returns the envelope with the payload spliced in byte for
// byte: encoding/json would compact a json.RawMessage, and receivers should
// get what the host platform published.
func webhookBody(env envelope, payload []byte) ([]byte, error) {
	head, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, len(head)+len(payload)+9)
	body = append(body, head[:len(head)-1]...)
	body = append(body, `,"data":`...)
	body = append(body, payload...)
	return append(body, '}'), nil
}

type source struct {
	Module string `json:"module,omitempty"`
	ID     string `json:"id,omitempty"`
}

// sendWebhook signs and posts an event to an endpoint.
func (e *Engine) sendWebhook(ctx context.Context, j *job) (*http.Response, error) {
	ep, ev := j.endpoint, j.event
	body, err := webhookBody(newEnvelope(ev), ev.Payload)
	if err != nil {
		return nil, err
	}
	signers, err := e.signers(ep)
	if err != nil {
		return nil, err
	}
	h, err := headers(ev.ID, e.cfg.Now(), body, signers)
	if err != nil {
		return nil, err
	}
	if ep.RateLimit > 0 {
		if err := e.limiter(ep).Wait(ctx); err != nil {
			return nil, err
		}
	}
	timeout := ep.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range ep.Headers {
		req.Header.Set(k, v)
	}
	for k, v := range h { // the signature headers win over custom ones
		req.Header[k] = v
	}
	req.Header["User-Agent"] = []string{"Patchbay-Webhooks"}
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// signingKeys are an endpoint's signers, cached with the sealed secrets
// they were opened from: a rotated secret (or a re-sealed one) no longer
// matches, and is opened again.
type signingKeys struct {
	sealed, sealedPrevious string
	current, previous      *signer // previous is nil when there is none
}

// maxCachedKeys bounds the key cache; past it, the cache starts afresh
// (it holds one entry per endpoint delivered to, deleted ones included).
const maxCachedKeys = 10000

// signers returns the signers for ep: the current secret's, and the
// previous one's while it has not expired. Opening a sealed secret
// (AES-GCM) and decoding it on every attempt cost about 2% of the
// server's CPU under load, so the signers are cached per endpoint.
func (e *Engine) signers(ep *patchbay.Endpoint) ([]*signer, error) {
	e.keysMu.Lock()
	k, ok := e.signing[ep.ID]
	e.keysMu.Unlock()
	if !ok || k.sealed != ep.Secret || k.sealedPrevious != ep.PreviousSecret {
		var err error
		if k, err = e.openKeys(ep); err != nil {
			return nil, err
		}
		e.keysMu.Lock()
		if len(e.signing) >= maxCachedKeys {
			clear(e.signing)
		}
		e.signing[ep.ID] = k
		e.keysMu.Unlock()
	}
	out := []*signer{k.current}
	if k.previous != nil && ep.PreviousSecretExpiresAt != nil && e.cfg.Now().Before(*ep.PreviousSecretExpiresAt) {
		out = append(out, k.previous)
	}
	return out, nil
}

// openKeys opens and decodes an endpoint's secrets. A previous secret that
// cannot be opened is left out: the current one still signs.
func (e *Engine) openKeys(ep *patchbay.Endpoint) (signingKeys, error) {
	k := signingKeys{sealed: ep.Secret, sealedPrevious: ep.PreviousSecret}
	cur, err := e.cfg.Ring.Open(ep.Secret, SecretColumn.AssociatedData(ep.ID))
	if err != nil {
		return k, errors.New("the endpoint's signing secret cannot be decrypted")
	}
	key, err := secretKey(string(cur))
	if err != nil {
		return k, err
	}
	k.current = newSigner(key)
	if ep.PreviousSecret != "" {
		if prev, err := e.cfg.Ring.Open(ep.PreviousSecret, PreviousSecretColumn.AssociatedData(ep.ID)); err == nil {
			if key, err := secretKey(string(prev)); err == nil {
				k.previous = newSigner(key)
			}
		}
	}
	return k, nil
}

// limiter returns the endpoint's token bucket, made anew when its rate
// changes.
func (e *Engine) limiter(ep *patchbay.Endpoint) *rate.Limiter {
	e.limitsMu.Lock()
	defer e.limitsMu.Unlock()
	l := e.limits[ep.ID]
	if l == nil || l.Limit() != rate.Limit(ep.RateLimit) {
		l = rate.NewLimiter(rate.Limit(ep.RateLimit), max(1, ep.RateLimit))
		e.limits[ep.ID] = l
	}
	return l
}

// The sealed columns of an endpoint's secrets.
var (
	SecretColumn         = patchbay.SealedColumn{Table: "endpoints", Column: "secret", Key: "id"}
	PreviousSecretColumn = patchbay.SealedColumn{Table: "endpoints", Column: "previous_secret", Key: "id"}
)
