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
	RetentionDays int
	Schedule      string
	MaxAttempts   int
	Default       delivery.Policy
	DefaultSched  string
	KeyIDs        []string
	Error         string
	UpdatedAt     time.Time
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
	d := h.settingsData(settingsData{RetentionDays: int(st.Retention() / (24 * time.Hour)), Schedule: scheduleString(st.RetrySchedule),
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
	var err error
	if d.RetentionDays, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("retention_days"))); err != nil {
		d.Error = "Retention must be a whole number of days."
	} else if d.MaxAttempts, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("max_attempts"))); err != nil {
		d.Error = "Max attempts must be a whole number."
	} else if _, err = delivery.SaveSettings(r.Context(), h.store, d.RetentionDays, eventTypes(d.Schedule), d.MaxAttempts); err != nil {
		if patchbay.ErrorCode(err) != patchbay.EINVALID {
			h.fail(w, r, rc, err)
			return
		}
		d.Error = patchbay.ErrorMessage(err)
	}
	if d.Error != "" {
		h.render(w, r, rc, http.StatusBadRequest, "settings", "Settings", h.settingsData(d))
		return
	}
	done(w, r, "/settings", "saved")
}
