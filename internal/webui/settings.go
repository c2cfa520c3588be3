package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/internal/delivery"
)

func init() {
	registerView(view{
		nav: navItem{Label: "Settings", Path: "/settings", Order: 90, Needs: needs(patchbay.CapSettingsManage)},
		routes: func(h *Handler) {
			h.mux.HandleFunc("GET /settings", h.authed(needs(patchbay.CapSettingsManage), h.settings))
			h.mux.HandleFunc("POST /settings", h.authed(needs(patchbay.CapSettingsManage), h.saveSettings))
		},
	})
}

type settingsData struct {
	Retention    []retentionField
	Schedule     string
	MaxAttempts  int
	Default      delivery.Policy
	DefaultSched string
	KeyIDs       []string
	Error        string
	UpdatedAt    time.Time
}

// retentionField is one retention setting on the form.
type retentionField struct {
	Name, Label string
	Days        int
	DefaultDays int
	to          *int // where the form's value goes in a SettingsInput
}

// retentionFields lists the retention settings of st, bound to in.
func retentionFields(st *patchbay.Settings, in *delivery.SettingsInput) []retentionField {
	days := func(d time.Duration) int { return int(d / (24 * time.Hour)) }
	return []retentionField{
		{"delivery_retention_days", "Delivery log", days(st.Retention()), days(patchbay.DefaultDeliveryRetention), &in.DeliveryRetentionDays},
		{"request_retention_days", "Vendor request log", days(st.RequestLogRetention()), days(patchbay.DefaultRequestRetention), &in.RequestRetentionDays},
		{"idempotency_retention_days", "Idempotency keys", days(st.IdempotencyKeyRetention()), days(patchbay.DefaultIdempotencyRetention), &in.IdempotencyRetentionDays},
		{"inbound_retention_days", "Inbound webhooks", days(st.InboundRetentionOrDefault()), days(patchbay.DefaultInboundRetention), &in.InboundRetentionDays},
		{"operation_log_retention_days", "Sync operation log", days(st.OperationLogRetentionOrDefault()), days(patchbay.DefaultOperationLogRetention), &in.OperationLogRetentionDays},
		{"sync_item_retention_days", "Finished sync items", days(st.SyncItemRetentionOrDefault()), days(patchbay.DefaultSyncItemRetention), &in.SyncItemRetentionDays},
	}
}

func scheduleString(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, ", ")
}

func (h *Handler) settings(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	st, err := h.store.FindSettings(r.Context(), rc.org)
	if err != nil {
		h.fail(w, r, rc, err)
		return
	}
	d := h.settingsData(settingsData{Retention: retentionFields(st, &delivery.SettingsInput{}), Schedule: scheduleString(st.RetrySchedule),
		MaxAttempts: st.MaxAttempts, UpdatedAt: st.UpdatedAt})
	h.render(w, r, rc, http.StatusOK, "settings", "Settings", d)
}

func (h *Handler) settingsData(d settingsData) settingsData {
	d.Default = delivery.DefaultPolicy()
	d.DefaultSched = scheduleString(d.Default.Schedule)
	d.KeyIDs = h.cfg.KeyIDs()
	return d
}

func (h *Handler) saveSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := settingsData{Schedule: r.PostFormValue("retry_schedule")}
	var in delivery.SettingsInput
	d.Retention = retentionFields(&patchbay.Settings{}, &in)
	d.Error = readSettingsForm(r, &d, &in)
	if d.Error == "" {
		if _, err := delivery.SaveSettings(r.Context(), h.store, in); err != nil {
			if patchbay.ErrorCode(err) != patchbay.EINVALID {
				h.fail(w, r, rc, err)
				return
			}
			d.Error = patchbay.ErrorMessage(err)
		}
	}
	if d.Error != "" {
		h.render(w, r, rc, http.StatusBadRequest, "settings", "Settings", h.settingsData(d))
		return
	}
	done(w, r, "/settings", "saved")
}

// readSettingsForm reads the form into d (to show it again) and in (to
// save it), and returns what is wrong with it, if anything.
func readSettingsForm(r *http.Request, d *settingsData, in *delivery.SettingsInput) string {
	for i := range d.Retention {
		f := &d.Retention[i]
		v := strings.TrimSpace(r.PostFormValue(f.Name))
		if v == "" {
			v = "0" // the default
		}
		days, err := strconv.Atoi(v)
		if err != nil {
			return f.Label + " retention must be a whole number of days."
		}
		f.Days, *f.to = days, days
	}
	var err error
	if d.MaxAttempts, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("max_attempts"))); err != nil {
		return "Max attempts must be a whole number."
	}
	in.RetrySchedule, in.MaxAttempts = eventTypes(d.Schedule), d.MaxAttempts
	return ""
}
