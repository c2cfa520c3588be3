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
		RetrySchedule: []string{}, RequestRetentionDays: int(s.RequestLogRetention() / day),
		IdempotencyRetentionDays:  int(s.IdempotencyKeyRetention() / day),
		OperationLogRetentionDays: int(s.OperationLogRetentionOrDefault() / day),
		SyncItemRetentionDays:     int(s.SyncItemRetentionOrDefault() / day), InboundRetentionDays: int(s.InboundRetentionOrDefault() / day)}
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
	Body client.SettingsUpdate
}

// putSettings changes the fields the body names and keeps the others.
func (s *Server) putSettings(ctx context.Context, in *settingsInput) (*body[client.Settings], error) {
	cur, err := s.store.FindSettings(ctx, patchbay.PrincipalFrom(ctx).OrgID)
	if err != nil {
		return nil, err
	}
	next, u := delivery.SettingsInputOf(cur), in.Body
	for _, f := range []struct {
		to *int
		v  *int
	}{
		{&next.DeliveryRetentionDays, u.DeliveryRetentionDays}, {&next.RequestRetentionDays, u.RequestRetentionDays},
		{&next.IdempotencyRetentionDays, u.IdempotencyRetentionDays}, {&next.OperationLogRetentionDays, u.OperationLogRetentionDays},
		{&next.SyncItemRetentionDays, u.SyncItemRetentionDays}, {&next.InboundRetentionDays, u.InboundRetentionDays},
		{&next.MaxAttempts, u.MaxAttempts},
	} {
		if f.v != nil {
			*f.to = *f.v
		}
	}
	if u.RetrySchedule != nil {
		next.RetrySchedule = *u.RetrySchedule
	}
	st, err := delivery.SaveSettings(ctx, s.store, next)
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
