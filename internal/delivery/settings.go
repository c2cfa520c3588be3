package delivery

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
)

// SaveSettings validates and stores the caller's org's delivery settings
// (retention in days, 0 for the default; a retry schedule of durations such
// as "5m"; max attempts, 0 for the default) and records the change in the
// activity log. The REST API and the web UI both save settings here.
func SaveSettings(ctx context.Context, store patchbay.Store, retentionDays int, schedule []string, maxAttempts int) (*patchbay.Settings, error) {
	st := &patchbay.Settings{OrgID: patchbay.PrincipalFrom(ctx).OrgID, MaxAttempts: maxAttempts}
	if retentionDays < 0 || retentionDays > 3650 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "delivery_retention_days must be 0 (default) to 3650.")
	}
	st.DeliveryRetention = time.Duration(retentionDays) * 24 * time.Hour
	for _, v := range schedule {
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
		a.Detail = map[string]any{"delivery_retention_days": retentionDays, "retry_schedule": schedule, "max_attempts": st.MaxAttempts}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}
