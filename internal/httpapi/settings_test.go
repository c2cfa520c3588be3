package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/patchbay/patchbay/client"
)

// PUT /v1/settings changes the fields it names and keeps the others; a bad
// value changes nothing.
func TestSettingsUpdateKeepsUnnamedFields(t *testing.T) {
	f := newFixture(t)
	key := f.newOrg("Acme", "admin@acme.test").APIKey
	put := func(status int, body map[string]any) client.Settings {
		t.Helper()
		var st client.Settings
		f.must(status, "PUT", "/v1/settings", key, body, nil)
		f.must(http.StatusOK, "GET", "/v1/settings", key, nil, &st)
		return st
	}
	if st := put(http.StatusOK, map[string]any{"max_attempts": 4, "retry_schedule": []string{"30s", "2m0s"}, "request_retention_days": 7}); st.MaxAttempts != 4 {
		t.Fatalf("after the first change: %+v", st)
	}
	st := put(http.StatusOK, map[string]any{"inbound_retention_days": 10})
	if st.MaxAttempts != 4 || !slices.Equal(st.RetrySchedule, []string{"30s", "2m0s"}) || st.RequestRetentionDays != 7 ||
		st.InboundRetentionDays != 10 || st.DeliveryRetentionDays != 30 {
		t.Errorf("after changing one field: %+v", st)
	}
	st = put(http.StatusBadRequest, map[string]any{"inbound_retention_days": -1, "max_attempts": 9})
	if st.InboundRetentionDays != 10 || st.MaxAttempts != 4 {
		t.Errorf("a refused change changed settings: %+v", st)
	}
	st = put(http.StatusOK, map[string]any{"max_attempts": 0, "retry_schedule": []string{}})
	if st.MaxAttempts != 0 || len(st.RetrySchedule) != 0 || st.RequestRetentionDays != 7 {
		t.Errorf("0 and an empty schedule set the defaults, the rest stays: %+v", st)
	}
}
