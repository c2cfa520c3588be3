package postgres

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

var unsafeChannel = regexp.MustCompile(`[^a-z0-9_]`)

// Channel is the NOTIFY channel on which a database in schema searchPath
// announces due deliveries; schemas sharing a server do not hear each
// other.
func Channel(searchPath string) string {
	return "patchbay_deliveries_" + unsafeChannel.ReplaceAllString(searchPath, "_")
}

// Listen calls wake on every notification of due deliveries until ctx
// ends, reconnecting after a lost connection. It replaces polling as the
// way replicas learn of each other's new deliveries.
func Listen(ctx context.Context, url string, wake func(), logger *slog.Logger) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		logger.Error("listen for deliveries: invalid URL")
		return
	}
	channel := Channel(cfg.RuntimeParams["search_path"])
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
			for err == nil {
				if _, err = conn.WaitForNotification(ctx); err == nil {
					wake()
				}
			}
			conn.Close(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil {
			return
		}
		logger.Warn("listen for deliveries: reconnecting", "error", err.Error())
		wake() // a notification may have been missed
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
