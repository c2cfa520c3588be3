package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patchbay/patchbay"
)

// These tests send traffic to loopback only. Refused addresses are refused by
// the dialer's Control hook, which runs before connect, so no packet leaves.
// As a safety net, testClient makes any dial that passes the policy but is
// not to loopback fail the test instead of connecting.

var loopbackOnly = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func testClient(t *testing.T, opts Options) *http.Client {
	t.Helper()
	c := NewClient(opts)
	gt, ok := c.Transport.(*guardedTransport)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	policy := gt.dialer.Control
	gt.dialer.Control = func(network, address string, rc syscall.RawConn) error {
		if err := policy(network, address, rc); err != nil {
			return err
		}
		if ap, err := netip.ParseAddrPort(address); err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("policy let %s through: a test must never dial beyond loopback", address)
			return errors.New("test safety net: not dialling beyond loopback")
		}
		return nil
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// get fetches url and returns the final response's status code.
func get(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// forbidden lists one address of each kind the policy refuses, with the kind
// its error must name.
var forbidden = []struct {
	ip   string
	kind string
}{
	{"127.0.0.1", "loopback"},
	{"127.255.255.254", "loopback"},
	{"10.0.0.1", "private"},
	{"172.16.0.1", "private"},
	{"172.31.255.254", "private"},
	{"192.168.1.1", "private"},
	{"169.254.169.254", "cloud metadata"},
	{"169.254.1.1", "link-local"},
	{"0.0.0.0", "unspecified"},
	{"0.1.2.3", "reserved"},
	{"255.255.255.255", "broadcast"},
	{"224.0.0.1", "multicast"},
	{"239.255.255.250", "multicast"},
	{"100.64.0.1", "shared (carrier-grade NAT)"},
	{"100.100.100.200", "shared (carrier-grade NAT)"}, // Alibaba Cloud metadata
	{"192.0.0.1", "reserved"},
	{"192.0.0.192", "reserved"}, // Oracle Cloud metadata
	{"192.0.2.1", "reserved"},
	{"198.18.0.1", "reserved"},
	{"198.51.100.1", "reserved"},
	{"203.0.113.1", "reserved"},
	{"240.0.0.1", "reserved"},
	{"::1", "loopback"},
	{"::", "unspecified"},
	{"fe80::1", "link-local"},
	{"fc00::1", "private"},
	{"fd12:3456::1", "private"},
	{"fd00:ec2::254", "cloud metadata"},
	{"ff02::1", "multicast"},
	{"2001:db8::1", "reserved"},
	{"2002:a00:1::", "reserved"}, // 6to4 of 10.0.0.1
	{"2001::1", "reserved"},      // Teredo
	{"64:ff9b::a9fe:a9fe", "NAT64"},
	{"64:ff9b:1::1", "NAT64"},
	{"::ffff:127.0.0.1", "loopback"},
	{"::ffff:169.254.169.254", "cloud metadata"},
	{"::ffff:10.0.0.1", "private"},
	{"::ffff:0.0.0.0", "unspecified"},
	{"::127.0.0.1", "reserved"}, // deprecated IPv4-compatible form
}

func TestGuard_Check(t *testing.T) {
	g := newGuard(nil)
	for _, tt := range forbidden {
		t.Run(tt.ip, func(t *testing.T) {
			err := g.check(netip.MustParseAddr(tt.ip))
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("check(%s) = %v, want ErrForbiddenAddress", tt.ip, err)
			}
			want := ErrForbiddenAddress.Error() + ": " + tt.kind + " address"
			if err.Error() != want {
				t.Fatalf("check(%s) = %q, want %q", tt.ip, err, want)
			}
		})
	}
	// Public addresses pass (checked only, never dialled).
	for _, ip := range []string{"8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		if err := g.check(netip.MustParseAddr(ip)); err != nil {
			t.Errorf("check(%s) = %v, want nil", ip, err)
		}
	}
}

func TestGuard_AllowNetworks(t *testing.T) {
	allow, err := ParseNetworks("10.0.0.0/8, 127.0.0.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	g := newGuard(allow)
	for ip, ok := range map[string]bool{
		"10.1.2.3":         true,
		"::ffff:10.1.2.3":  true, // dialled as 10.1.2.3
		"127.0.0.1":        true,
		"127.0.0.2":        false,
		"fd00::1":          true,
		"fc00::1":          false,
		"169.254.169.254":  false,
		"192.168.0.1":      false,
		"::1":              false,
		"::ffff:127.0.0.2": false,
	} {
		if err := g.check(netip.MustParseAddr(ip)); (err == nil) != ok {
			t.Errorf("check(%s) = %v, want allowed %v", ip, err, ok)
		}
	}
}

func TestGuard_Control(t *testing.T) {
	g := newGuard(nil)
	for _, tt := range []struct{ network, address string }{
		{"tcp4", "127.0.0.1:8080"},
		{"tcp6", "[::1]:443"},
		{"udp4", "8.8.8.8:53"},
		{"tcp4", "not-an-address"},
	} {
		if err := g.control(tt.network, tt.address, nil); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("control(%s, %s) = %v, want ErrForbiddenAddress", tt.network, tt.address, err)
		}
	}
	for _, address := range []string{"8.8.8.8:80", "8.8.8.8:8443", "8.8.8.8:1"} { // any port
		if err := g.control("tcp4", address, nil); err != nil {
			t.Errorf("control(tcp4, %s) = %v, want nil", address, err)
		}
	}
}

// TestClient_RefusesForbiddenAddresses dials each forbidden literal through
// the client: the refusal must come from the dialer, before any connect.
func TestClient_RefusesForbiddenAddresses(t *testing.T) {
	c := testClient(t, Options{})
	for _, tt := range forbidden {
		t.Run(tt.ip, func(t *testing.T) {
			host := tt.ip
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
			for _, u := range []string{"http://" + host + "/", "https://" + host + ":8443/x"} {
				_, err := get(t, c, u)
				if !errors.Is(err, ErrForbiddenAddress) {
					t.Fatalf("GET %s = %v, want ErrForbiddenAddress", u, err)
				}
				if !strings.Contains(err.Error(), tt.kind+" address") {
					t.Fatalf("GET %s = %v, want the reason %q", u, err, tt.kind)
				}
			}
		})
	}
}

func TestClient_Loopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case r.URL.Path == "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case r.URL.Path == "/mapped":
			http.Redirect(w, r, "http://[::ffff:169.254.169.254]/latest/meta-data/", http.StatusTemporaryRedirect)
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://127.0.0.1/x", http.StatusFound)
		case r.URL.Path == "/file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			if n > 0 {
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
				return
			}
			_, _ = io.WriteString(w, "landed")
		default:
			_, _ = io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	allowed := testClient(t, Options{AllowNetworks: loopbackOnly, MaxRedirects: 3})
	strict := testClient(t, Options{})

	tests := []struct {
		name     string
		client   *http.Client
		url      string
		wantErr  error // nil: a 200
		wantHits int32 // requests the server saw
	}{
		{name: "allowed request succeeds", client: allowed, url: srv.URL + "/", wantHits: 1},
		{name: "allowed host name succeeds", client: allowed, url: "http://localhost:" + port + "/", wantHits: 1},
		{name: "loopback refused without allow-list", client: strict, url: srv.URL + "/", wantErr: ErrForbiddenAddress},
		{name: "localhost refused without allow-list", client: strict, url: "http://localhost:" + port + "/", wantErr: ErrForbiddenAddress},
		{name: "https to loopback refused before TLS", client: strict, url: "https://localhost:" + port + "/", wantErr: ErrForbiddenAddress},
		{name: "redirect to metadata refused", client: allowed, url: srv.URL + "/metadata", wantErr: ErrForbiddenAddress, wantHits: 1},
		{name: "redirect to mapped metadata refused", client: allowed, url: srv.URL + "/mapped", wantErr: ErrForbiddenAddress, wantHits: 1},
		{name: "redirect to ftp refused", client: allowed, url: srv.URL + "/ftp", wantErr: ErrForbiddenScheme, wantHits: 1},
		{name: "redirect to file refused", client: allowed, url: srv.URL + "/file", wantErr: ErrForbiddenScheme, wantHits: 1},
		{name: "redirects within limit followed", client: allowed, url: srv.URL + "/hop/3", wantHits: 4},
		{name: "too many redirects refused", client: allowed, url: srv.URL + "/hop/4", wantErr: ErrTooManyRedirects, wantHits: 4},
		{name: "ftp refused", client: allowed, url: "ftp://127.0.0.1:" + port + "/", wantErr: ErrForbiddenScheme},
		{name: "file refused", client: allowed, url: "file:///etc/passwd", wantErr: ErrForbiddenScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			status, err := get(t, tt.client, tt.url)
			if tt.wantErr == nil {
				if err != nil || status != http.StatusOK {
					t.Fatalf("GET %s = %d, %v; want 200", tt.url, status, err)
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GET %s = %v, want %v", tt.url, err, tt.wantErr)
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Fatalf("server saw %d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

func TestClient_NoRedirects(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(srv.Close)
	c := testClient(t, Options{AllowNetworks: loopbackOnly, MaxRedirects: -1})
	status, err := get(t, c, srv.URL)
	if err != nil || status != http.StatusFound {
		t.Fatalf("GET = %d, %v; want the 302 itself", status, err)
	}
}

func TestNewClient_Transport(t *testing.T) {
	c := NewClient(Options{Timeout: 7 * time.Second})
	gt, ok := c.Transport.(*guardedTransport)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	tr := gt.rt
	switch {
	case tr.Proxy != nil:
		t.Error("Proxy is set; want nil (no environment proxy)")
	case tr.MaxIdleConnsPerHost != 64, tr.IdleConnTimeout != 90*time.Second, tr.TLSHandshakeTimeout != 10*time.Second:
		t.Errorf("pool settings = %d, %v, %v", tr.MaxIdleConnsPerHost, tr.IdleConnTimeout, tr.TLSHandshakeTimeout)
	case tr.ResponseHeaderTimeout != 7*time.Second, gt.dialer.Timeout != 7*time.Second:
		t.Errorf("timeouts = %v, %v; want 7s", tr.ResponseHeaderTimeout, gt.dialer.Timeout)
	case c.Timeout != 0:
		t.Errorf("Client.Timeout = %v; want none (the request's context bounds it)", c.Timeout)
	case !tr.ForceAttemptHTTP2:
		t.Error("ForceAttemptHTTP2 = false")
	}
	d, ok := NewClient(Options{}).Transport.(*guardedTransport)
	if !ok || d.rt.ResponseHeaderTimeout != DefaultTimeout {
		t.Errorf("default transport = %T; want a guardedTransport with ResponseHeaderTimeout %v", d, DefaultTimeout)
	}
}

func TestParseNetworks(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{in: "127.0.0.0/8,::1/128", want: []string{"127.0.0.0/8", "::1/128"}, ok: true},
		{in: " 10.0.0.0/8 , 192.168.0.0/16 ", want: []string{"10.0.0.0/8", "192.168.0.0/16"}, ok: true},
		{in: "127.0.0.1", want: []string{"127.0.0.1/32"}, ok: true},
		{in: "::1", want: []string{"::1/128"}, ok: true},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}, ok: true},
		{in: "::ffff:127.0.0.0/104", want: []string{"127.0.0.0/8"}, ok: true},
		{in: "", ok: true},
		{in: "  ", ok: true},
		{in: "10.0.0.0/8,"},
		{in: "10.0.0.0/33"},
		{in: "localhost"},
		{in: "fe80::1%eth0"},
		{in: "10.0.0.0/8;127.0.0.0/8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNetworks(tt.in)
			if !tt.ok {
				if patchbay.ErrorCode(err) != patchbay.EINVALID {
					t.Fatalf("ParseNetworks(%q) = %v, %v; want EINVALID", tt.in, got, err)
				}
				return
			}
			var strs []string
			for _, p := range got {
				strs = append(strs, p.String())
			}
			if err != nil || !slices.Equal(strs, tt.want) {
				t.Fatalf("ParseNetworks(%q) = %v, %v; want %v", tt.in, strs, err, tt.want)
			}
		})
	}
}
