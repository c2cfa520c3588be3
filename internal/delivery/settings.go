package delivery

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
)

// SettingsInput is an org's settings as people write them: retention in
// whole days (0 for the default) and a retry schedule of durations such as
// "5m" (empty for the default; MaxAttempts 0 likewise).
type SettingsInput struct {
	DeliveryRetentionDays     int
	RequestRetentionDays      int
	IdempotencyRetentionDays  int
	OperationLogRetentionDays int
	SyncItemRetentionDays     int
	InboundRetentionDays      int
	RetrySchedule             []string
	MaxAttempts               int
}

// SettingsInputOf returns st as SettingsInput, for a change of some of its
// fields: saved again unchanged, it stores the same settings.
func SettingsInputOf(st *patchbay.Settings) SettingsInput {
	days := func(d time.Duration) int { return int(d / (24 * time.Hour)) }
	in := SettingsInput{DeliveryRetentionDays: days(st.DeliveryRetention), RequestRetentionDays: days(st.RequestRetention),
		IdempotencyRetentionDays: days(st.IdempotencyRetention), OperationLogRetentionDays: days(st.OperationLogRetention),
		SyncItemRetentionDays: days(st.SyncItemRetention), InboundRetentionDays: days(st.InboundRetention),
		MaxAttempts: st.MaxAttempts}
	for _, d := range st.RetrySchedule {
		in.RetrySchedule = append(in.RetrySchedule, d.String())
	}
	return in
}

// maxRetentionDays bounds every retention setting.
const maxRetentionDays = 3650

// SaveSettings validates and stores the caller's org's settings and
// records the change in the activity log. The REST API and the web UI both
// save settings here; every field is replaced.
func SaveSettings(ctx context.Context, store patchbay.Store, in SettingsInput) (*patchbay.Settings, error) {
	st := &patchbay.Settings{OrgID: patchbay.PrincipalFrom(ctx).OrgID, MaxAttempts: in.MaxAttempts}
	for _, r := range []struct {
		name string
		days int
		to   *time.Duration
	}{
		{"delivery_retention_days", in.DeliveryRetentionDays, &st.DeliveryRetention},
		{"request_retention_days", in.RequestRetentionDays, &st.RequestRetention},
		{"idempotency_retention_days", in.IdempotencyRetentionDays, &st.IdempotencyRetention},
		{"operation_log_retention_days", in.OperationLogRetentionDays, &st.OperationLogRetention},
		{"sync_item_retention_days", in.SyncItemRetentionDays, &st.SyncItemRetention},
		{"inbound_retention_days", in.InboundRetentionDays, &st.InboundRetention},
	} {
		if r.days < 0 || r.days > maxRetentionDays {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s must be 0 (default) to %d.", r.name, maxRetentionDays)
		}
		*r.to = time.Duration(r.days) * 24 * time.Hour
	}
	for _, v := range in.RetrySchedule {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, patchbay.Errorf(patchbay.EINVALID, "retry_schedule: %q is not a duration such as 5m.", v)
		}
		st.RetrySchedule = append(st.RetrySchedule, d)
	}
	if len(st.RetrySchedule) > 0 || st.MaxAttempts != 0 {
		p := DefaultPolicy()
		if len(st.RetrySchedule) > 0 {
			p.Schedule = st.RetrySchedule
		}
		if st.MaxAttempts != 0 {
			p.MaxAttempts = st.MaxAttempts
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	err := store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.SaveSettings(ctx, st); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "settings.update", "org", st.OrgID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"delivery_retention_days": in.DeliveryRetentionDays, "retry_schedule": in.RetrySchedule,
			"max_attempts": st.MaxAttempts, "request_retention_days": in.RequestRetentionDays,
			"idempotency_retention_days": in.IdempotencyRetentionDays, "operation_log_retention_days": in.OperationLogRetentionDays,
			"sync_item_retention_days": in.SyncItemRetentionDays, "inbound_retention_days": in.InboundRetentionDays}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}
