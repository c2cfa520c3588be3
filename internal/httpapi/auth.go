package httpapi

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/patchbay/patchbay"
)

// authenticate is the middleware every /v1 operation runs through: it finds
// the principal behind the bearer key, applies the key's rate limit and
// checks the capabilities the route declares. Routes outside the table (the
// OpenAPI document) carry no needs and pass untouched.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	if _, guarded := op.Metadata[needsKey]; !guarded {
		next(ctx)
		return
	}
	required, _ := op.Metadata[needsKey].([]patchbay.Capability)
	p, err := s.authorize(ctx.Context(), ctx.Header("Authorization"), required, ctx.SetHeader)
	if err != nil {
		var pe *patchbay.Error
		if errors.As(err, &pe) && pe.Code != patchbay.EINTERNAL {
			_ = huma.WriteErr(s.api, ctx, 0, "", pe)
		} else {
			_ = huma.WriteErr(s.api, ctx, 0, "", toAPIError(ctx.Context(), err))
		}
		return
	}
	next(huma.WithContext(ctx, patchbay.WithPrincipal(ctx.Context(), p)))
}

// authorize finds the principal behind an Authorization header, spends one
// request of its key's rate limit and checks it holds the capabilities
// required. It returns the error to answer with (setting WWW-Authenticate
// or Retry-After through setHeader) as a *patchbay.Error, or a store fault; the /v1 routes outside huma (the
// proxy) use it too.
func (s *Server) authorize(ctx context.Context, authorization string, required []patchbay.Capability, setHeader func(k, v string)) (*patchbay.Principal, error) {
	p, key, err := s.principalFor(ctx, authorization)
	if err != nil {
		if patchbay.ErrorCode(err) == patchbay.EUNAUTHORIZED {
			setHeader("WWW-Authenticate", `Bearer realm="patchbay"`)
			return nil, &patchbay.Error{Code: patchbay.EUNAUTHORIZED, Message: patchbay.ErrorMessage(err)}
		}
		return nil, err
	}
	requestInfoFrom(ctx).principal = p

	if ok, wait := s.limits.allow(key); !ok {
		setHeader("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return nil, patchbay.Errorf(patchbay.ERATELIMIT, "Rate limit of %d requests per minute exceeded.", key.RateLimit)
	}
	for _, c := range required {
		if !p.Can(c) {
			return nil, patchbay.Errorf(patchbay.EFORBIDDEN, "This action needs the %q capability, which your role does not grant.", c)
		}
	}
	return p, nil
}

var errNoKey = patchbay.Errorf(patchbay.EUNAUTHORIZED, "Missing API key: send \"Authorization: Bearer <key>\".")
var errBadKey = patchbay.Errorf(patchbay.EUNAUTHORIZED, "Invalid API key.")

// principalFor resolves an Authorization header to a principal and its key.
func (s *Server) principalFor(ctx context.Context, header string) (*patchbay.Principal, *patchbay.APIKey, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return nil, nil, errNoKey
	} else if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, nil, patchbay.Errorf(patchbay.EUNAUTHORIZED, "Authorization must use the Bearer scheme.")
	}
	prefix, ok := patchbay.ParseAPIKeyPrefix(strings.TrimSpace(secret))
	if !ok {
		return nil, nil, errBadKey
	}
	key, err := s.store.FindAPIKeyByPrefix(ctx, prefix)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return nil, nil, errBadKey
	} else if err != nil {
		return nil, nil, err
	} else if !key.Matches(strings.TrimSpace(secret)) {
		return nil, nil, errBadKey
	}
	now := s.now()
	if key.RevokedAt != nil {
		return nil, nil, patchbay.Errorf(patchbay.EUNAUTHORIZED, "API key has been revoked.")
	} else if !key.Active(now) {
		return nil, nil, patchbay.Errorf(patchbay.EUNAUTHORIZED, "API key has expired.")
	}
	caps, err := s.roleCapabilities(ctx, key.OrgID, key.RoleID)
	if err != nil {
		return nil, nil, err
	}
	if len(key.Scopes) > 0 {
		caps = caps.Intersect(key.Scopes)
	}
	if s.limits.shouldTouch(key.ID, now) {
		if err := s.store.TouchAPIKey(ctx, key.ID, now); err != nil {
			requestInfoFrom(ctx).logger.WarnContext(ctx, "record key use", "key", key.Prefix, "error", err.Error())
		}
	}
	return &patchbay.Principal{
		OrgID: key.OrgID, ActorType: patchbay.ActorAPIKey, ActorID: key.ID, ActorName: key.Prefix,
		RoleID: key.RoleID, Capabilities: caps,
	}, key, nil
}

// findRole returns a built-in role, or a custom role of the org, or
// ENOTFOUND.
func (s *Server) findRole(ctx context.Context, orgID, roleID string) (*patchbay.Role, error) {
	return patchbay.FindRoleOf(ctx, s.store, orgID, roleID)
}

// roleCapabilities returns the capabilities of a built-in or custom role. A
// role that no longer exists grants nothing.
func (s *Server) roleCapabilities(ctx context.Context, orgID, roleID string) (patchbay.CapabilitySet, error) {
	r, err := s.findRole(ctx, orgID, roleID)
	if patchbay.ErrorCode(err) == patchbay.ENOTFOUND {
		return patchbay.CapabilitySet{}, nil
	} else if err != nil {
		return nil, err
	}
	return patchbay.NewCapabilitySet(r.Capabilities...), nil
}

// keyLimiter holds a token bucket per API key: a key may spend its whole
// per-minute allowance at once, then refills evenly. The buckets live in
// this process, so with several replicas a key's effective limit is the
// per-replica limit times the replicas a load balancer spreads it over.
//
// It also remembers when each key's last-used time was last written, so
// that time is stored at most once a minute per key instead of on every
// request.
type keyLimiter struct {
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]*keyState
}

type keyState struct {
	limit   int
	bucket  *rate.Limiter
	touched time.Time
}

// touchEvery is how stale a key's stored last-used time may get.
const touchEvery = time.Minute

func newKeyLimiter(now func() time.Time) *keyLimiter {
	return &keyLimiter{now: now, keys: map[string]*keyState{}}
}

func (l *keyLimiter) state(k *patchbay.APIKey) *keyState {
	st := l.keys[k.ID]
	if st == nil || st.limit != k.RateLimit {
		bucket := rate.NewLimiter(rate.Limit(float64(k.RateLimit)/60), k.RateLimit)
		prev := time.Time{}
		if st != nil {
			prev = st.touched
		}
		st = &keyState{limit: k.RateLimit, bucket: bucket, touched: prev}
		l.keys[k.ID] = st
	}
	return st
}

// allow spends one token of k's bucket, or reports how long until one is
// available.
func (l *keyLimiter) allow(k *patchbay.APIKey) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.state(k).bucket.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// shouldTouch reports whether key id's last-used time is due to be stored,
// and if so notes that it is being stored now.
func (l *keyLimiter) shouldTouch(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.keys[id]
	if st == nil {
		st = &keyState{}
		l.keys[id] = st
	}
	if now.Sub(st.touched) < touchEvery {
		return false
	}
	st.touched = now
	return true
}
