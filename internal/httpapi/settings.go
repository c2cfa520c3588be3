package httpapi

import (
	"context"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/delivery"
)

func settingsOut(s *patchbay.Settings) client.Settings {
	const day = 24 * time.Hour
	out := client.Settings{DeliveryRetentionDays: int(s.Retention() / day), MaxAttempts: s.MaxAttempts,
		RetrySchedule: []string{}, OperationLogRetentionDays: int(s.OperationLogRetentionOrDefault() / day),
		SyncItemRetentionDays: int(s.SyncItemRetentionOrDefault() / day), InboundRetentionDays: int(s.InboundRetentionOrDefault() / day)}
	for _, d := range s.RetrySchedule {
		out.RetrySchedule = append(out.RetrySchedule, d.String())
	}
	if !s.UpdatedAt.IsZero() {
		out.UpdatedAt = utcPtr(&s.UpdatedAt)
	}
	return out
}

func (s *Server) getSettings(ctx context.Context, _ *struct{}) (*body[client.Settings], error) {
	st, err := s.store.FindSettings(ctx, patchbay.PrincipalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	return respond(settingsOut(st)), nil
}

type settingsInput struct {
	Body client.Settings
}

func (s *Server) putSettings(ctx context.Context, in *settingsInput) (*body[client.Settings], error) {
	st := &patchbay.Settings{OrgID: patchbay.PrincipalFrom(ctx).OrgID, MaxAttempts: in.Body.MaxAttempts}
	d := in.Body.DeliveryRetentionDays
	if d < 0 || d > 3650 {
		return nil, patchbay.Errorf(patchbay.EINVALID, "delivery_retention_days must be 0 (default) to 3650.")
	}
	st.DeliveryRetention = time.Duration(d) * 24 * time.Hour
	for _, r := range []struct {
		name string
		days int
		to   *time.Duration
	}{
		{"operation_log_retention_days", in.Body.OperationLogRetentionDays, &st.OperationLogRetention},
		{"sync_item_retention_days", in.Body.SyncItemRetentionDays, &st.SyncItemRetention},
		{"inbound_retention_days", in.Body.InboundRetentionDays, &st.InboundRetention},
	} {
		if r.days < 0 || r.days > 3650 {
			return nil, patchbay.Errorf(patchbay.EINVALID, "%s must be 0 (default) to 3650.", r.name)
		}
		*r.to = time.Duration(r.days) * 24 * time.Hour
	}
	for _, v := range in.Body.RetrySchedule {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, patchbay.Errorf(patchbay.EINVALID, "retry_schedule: %q is not a duration such as 5m.", v)
		}
		st.RetrySchedule = append(st.RetrySchedule, d)
	}
	if len(st.RetrySchedule) > 0 || st.MaxAttempts != 0 {
		p := delivery.DefaultPolicy()
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
	err := s.store.WithTx(ctx, func(tx patchbay.Store) error {
		if err := tx.SaveSettings(ctx, st); err != nil {
			return err
		}
		a := patchbay.NewActivity(ctx, "settings.update", "org", st.OrgID, patchbay.OutcomeSuccess)
		a.Detail = map[string]any{"delivery_retention_days": in.Body.DeliveryRetentionDays,
			"retry_schedule": in.Body.RetrySchedule, "max_attempts": st.MaxAttempts,
			"operation_log_retention_days": in.Body.OperationLogRetentionDays,
			"sync_item_retention_days":     in.Body.SyncItemRetentionDays, "inbound_retention_days": in.Body.InboundRetentionDays}
		return tx.RecordActivity(ctx, a)
	})
	if err != nil {
		return nil, err
	}
	return respond(settingsOut(st)), nil
}

type deliveryReportInput struct {
	Days int `query:"days" minimum:"1" maximum:"365" default:"30"`
}

func (s *Server) deliveriesReport(ctx context.Context, in *deliveryReportInput) (*body[client.List[client.EndpointSummary]], error) {
	list, err := s.store.SummarizeDeliveries(ctx, patchbay.PrincipalFrom(ctx).OrgID, s.now().Add(-time.Duration(in.Days)*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return respond(client.List[client.EndpointSummary]{Data: mapSlice(list, func(e *patchbay.EndpointSummary) client.EndpointSummary {
		return client.EndpointSummary{EndpointID: e.EndpointID, Total: e.Total, Delivered: e.Delivered, Failed: e.Failed,
			Waiting: e.Waiting, AvgLatencyMS: e.AvgLatency.Milliseconds(), LastDelivery: utcPtr(e.LastDelivery)}
	})}), nil
}
