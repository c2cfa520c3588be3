package patchbay

import (
	"context"
	"time"
)

// Session is a signed-in user of the admin web UI. Only a hash of the
// session's random token is stored: the token itself is in the browser's
// cookie, so a copy of the database does not sign anyone in.
type Session struct {
	TokenHash  string // hex SHA-256 of the token
	OrgID      string
	UserID     string
	CreatedAt  time.Time
	ExpiresAt  time.Time // absolute expiry, fixed at sign-in
	LastSeenAt time.Time // for the idle expiry
}

// SessionStore stores web UI sessions.
type SessionStore interface {
	// CreateSession stores s; CreatedAt and LastSeenAt are set to now.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the session with that token hash or ENOTFOUND.
	FindSession(ctx context.Context, tokenHash string) (*Session, error)
	// TouchSession sets a session's last-seen time.
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
	// DeleteSession removes a session; removing a missing one is not an
	// error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions removes every session of the user but the one
	// with token hash keep ("" keeps none) and returns how many it removed.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int, error)
	// DeleteExpiredSessions removes sessions whose absolute expiry is
	// before t and returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error)
}

// DeliveryDay is one day of a delivery chart: the attempts made that day
// (UTC) by outcome and their latency.
type DeliveryDay struct {
	Day        time.Time // midnight UTC
	Succeeded  int       // attempts answered 2xx
	Failed     int       // attempts that failed
	AvgLatency time.Duration
	MaxLatency time.Duration
}

// DeliveryStatsFilter selects the attempts a chart counts.
type DeliveryStatsFilter struct {
	EndpointID   string
	ConnectionID string
	Since        time.Time // first day counted (truncated to midnight UTC)
	Until        time.Time // exclusive; now when zero
}

// DeliveryStatsStore answers the web UI's charts.
type DeliveryStatsStore interface {
	// DailyDeliveries returns one DeliveryDay per day from f.Since to
	// f.Until, oldest first, days without attempts included as zeros.
	DailyDeliveries(ctx context.Context, orgID string, f DeliveryStatsFilter) ([]*DeliveryDay, error)
}
