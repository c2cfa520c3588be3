package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchbay/patchbay"
	"github.com/patchbay/patchbay/client"
	"github.com/patchbay/patchbay/internal/delivery"
	"github.com/patchbay/patchbay/internal/secret"
)

func TestInboundEndpoint(t *testing.T) {
	f := newFixture(t)
	a := f.newOrg("Org A", "admin@a.example")
	conn := f.newConnection(a.Org.ID, 1)
	signing := secret.NewSigningSecret()
	var u client.InboundURL
	f.must(http.StatusCreated, "POST", "/v1/connections/"+conn.ID+"/inbound", a.APIKey, map[string]string{"secret": signing}, &u)
	path := u.URL[strings.Index(u.URL, "/inbound/"):]

	post := func(path, contentType string, body []byte, h http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, req)
		return w
	}
	body := []byte(`{"type":"item.created","id":1}`)
	h, _ := delivery.Headers("msg_1", f.clock.Now(), body, signing)
	if w := post(path, "application/json", body, h); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"processed"`) {
		t.Fatalf("signed webhook: %d %s", w.Code, w.Body)
	}
	if w := post(path, "text/plain", body, h); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"duplicate"`) {
		t.Fatalf("duplicate (any content type): %d %s", w.Code, w.Body)
	}
	forged, _ := delivery.Headers("msg_2", f.clock.Now(), body, secret.NewSigningSecret())
	if w := post(path, "application/json", body, forged); w.Code != http.StatusUnauthorized || errorCode(t, w) != patchbay.EUNAUTHORIZED {
		t.Fatalf("forged: %d %s", w.Code, w.Body)
	}
	if w := post("/inbound/nope", "application/json", body, h); w.Code != http.StatusNotFound || errorCode(t, w) != patchbay.ENOTFOUND {
		t.Fatalf("unknown URL: %d %s", w.Code, w.Body)
	}
	if w := post(path, "application/json", bytes.Repeat([]byte("x"), 2<<20), h); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", w.Code)
	}

	var list client.List[client.InboundWebhook]
	f.must(http.StatusOK, "GET", "/v1/inbound?connection_id="+conn.ID, a.APIKey, nil, &list)
	if len(list.Data) != 2 { // processed and rejected
		t.Fatalf("inbound log: %d entries", len(list.Data))
	}
	for _, w := range list.Data {
		raw, _ := json.Marshal(w)
		if strings.Contains(string(raw), signing) || strings.Contains(string(raw), forged.Get("webhook-signature")) {
			t.Fatalf("the log holds a secret or signature: %s", raw)
		}
	}
}
