package storetest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// BenchmarkQueue measures the database's share of delivering an event,
// without HTTP: each round publishes a batch of events with one delivery
// each, stored leased as a publish in the engine's process stores them,
// and records each delivery's successful attempt as the engine's
// recorder does. It reports the cost per event; run it with -benchtime
// large enough for several rounds.
func BenchmarkQueue(b *testing.B, store patchbay.Store) {
	ctx := context.Background()
	org := &patchbay.Org{Name: "bench"}
	if err := store.CreateOrg(ctx, org); err != nil {
		b.Fatal(err)
	}
	ep := &patchbay.Endpoint{OrgID: org.ID, URL: "https://hooks.example.com/bench", EventTypes: []string{"bench.event"},
		Active: true, Secret: "pbs1:k1:bench", Timeout: 10 * time.Second}
	if err := store.CreateEndpoint(ctx, ep); err != nil {
		b.Fatal(err)
	}
	const batch = 100
	payload := []byte(`{"pad":"` + strings.Repeat("x", 240) + `"}`) // about the load tool's 256 bytes
	b.ReportAllocs()
	b.ResetTimer()
	for round := 0; b.Loop(); round++ {
		now := time.Now()
		until := now.Add(2 * time.Minute)
		evs := make([]*patchbay.Event, batch)
		ds := make([]*patchbay.Delivery, batch)
		err := store.WithTx(ctx, func(tx patchbay.Store) error {
			for i := range evs {
				evs[i] = &patchbay.Event{OrgID: org.ID, Type: "bench.event", Payload: payload,
					SourceID: strconv.Itoa(round*batch + i)}
			}
			if err := tx.CreateEvents(ctx, evs); err != nil {
				return err
			}
			for i, ev := range evs {
				ds[i] = &patchbay.Delivery{OrgID: org.ID, EventID: ev.ID, EventType: ev.Type, EndpointID: ep.ID,
					Status: patchbay.DeliverySending, NextAttemptAt: now, LeaseOwner: "bench", LeaseUntil: &until}
			}
			return tx.CreateDeliveries(ctx, ds)
		})
		if err != nil {
			b.Fatal(err)
		}
		results := make([]patchbay.AttemptResult, batch)
		for i, d := range ds {
			done := *d
			at := time.Now()
			done.Status, done.Attempts, done.RoundAttempts = patchbay.DeliveryDelivered, 1, 1
			done.LastAttemptAt, done.DeliveredAt, done.LastStatusCode = &at, &at, 204
			results[i] = patchbay.AttemptResult{Delivery: &done, Attempt: &patchbay.Attempt{OrgID: org.ID,
				DeliveryID: d.ID, Number: 1, StartedAt: at, StatusCode: 204, Latency: time.Millisecond}}
		}
		if _, err := store.FinishAttempts(ctx, "bench", results); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch)/1e3, "µs/event")
}
