package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

func TestNiceMax(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {3, 5}, {7, 10}, {12, 20}, {180, 200}, {501, 1000}} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%g) = %g, want %g", tc.in, got, tc.want)
		}
	}
}

func TestCharts(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	days := []*patchbay.DeliveryDay{
		{Day: day, Succeeded: 3, Failed: 1, AvgLatency: 120 * time.Millisecond, MaxLatency: 300 * time.Millisecond},
		{Day: day.Add(24 * time.Hour)},
		{Day: day.Add(48 * time.Hour), Succeeded: 1, AvgLatency: 80 * time.Millisecond, MaxLatency: 80 * time.Millisecond},
	}
	out := string(outcomeChart(days))
	for _, want := range []string{`role="img"`, "<title", "5 attempts, 1 failed", "Mar 1: 3 succeeded", "Mar 1: 1 failed", "Mar 3: 1 succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("outcome chart lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "<rect"); n != 3 {
		t.Errorf("%d bars, want 3", n)
	}
	lat := string(latencyChart(days))
	if !strings.Contains(lat, "<polyline") || strings.Count(lat, "<circle") != 2 || !strings.Contains(lat, "120 ms average, 300 ms max") {
		t.Errorf("latency chart:\n%s", lat)
	}
	empty := string(outcomeChart([]*patchbay.DeliveryDay{{Day: day}}))
	if !strings.Contains(empty, "No attempts in this period") {
		t.Errorf("empty chart:\n%s", empty)
	}
}
